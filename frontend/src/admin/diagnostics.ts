// Turns the server's script problems (1-based line and column) into CodeMirror
// diagnostics, so the editor underlines what the server complained about.
import type { Diagnostic } from '@codemirror/lint';
import type { Text } from '@codemirror/state';

import type { ScriptProblem } from '../lib/errors';

/**
 * problemsToDiagnostics marks each problem from its column to the end of the token there
 * (or of the line); a problem past the end of a line marks the whole line. Lines and
 * columns out of range are clamped: a problem at "end of file" still shows on the last line.
 */
export function problemsToDiagnostics(doc: Text, problems: readonly ScriptProblem[]): Diagnostic[] {
  return problems.map((p) => {
    const lineNo = Math.min(Math.max(1, p.line), doc.lines);
    const line = doc.line(lineNo);
    const col = Math.min(Math.max(1, p.column), line.length + 1);
    let from = line.from + col - 1;
    const rest = line.text.slice(col - 1);
    const token = /^[A-Za-z0-9_."']+/.exec(rest)?.[0].length ?? 0;
    let to = token > 0 ? from + token : line.to;
    if (to <= from && line.text.trim() !== '') {
      // At the end of the line ("got newline"): mark the line's text instead of a point.
      from = line.from + (line.text.length - line.text.trimStart().length);
      to = line.to;
    }
    const where = p.path ? ` (${p.path})` : '';
    return { from, to, severity: 'error', message: `${p.message}${where}`, source: `line ${p.line}, column ${p.column}` };
  });
}
