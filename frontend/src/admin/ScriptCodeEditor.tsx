import { python } from '@codemirror/lang-python';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorView } from '@codemirror/view';
import CodeMirror, { type ReactCodeMirrorRef } from '@uiw/react-codemirror';
import { useEffect, useMemo, useRef } from 'react';

import type { ScriptProblem } from '../lib/errors';
import { problemsToDiagnostics } from './diagnostics';

interface Props {
  value: string;
  onChange: (value: string) => void;
  problems: readonly ScriptProblem[];
  label: string;
}

/**
 * ScriptCodeEditor is CodeMirror 6 with Python highlighting (Starlark is a Python dialect)
 * and the server's problems shown as diagnostics in the text and the gutter.
 */
export function ScriptCodeEditor({ value, onChange, problems, label }: Props) {
  const ref = useRef<ReactCodeMirrorRef>(null);
  const extensions = useMemo(
    () => [python(), lintGutter(), EditorView.contentAttributes.of({ 'aria-label': label }), EditorView.lineWrapping],
    [label],
  );

  useEffect(() => {
    const view = ref.current?.view;
    if (!view) return;
    view.dispatch(setDiagnostics(view.state, problemsToDiagnostics(view.state.doc, problems)));
  }, [problems]);

  return (
    <CodeMirror
      ref={ref}
      value={value}
      onChange={onChange}
      extensions={extensions}
      height="480px"
      basicSetup={{ foldGutter: false }}
      data-testid="script-editor"
    />
  );
}
