import { Text } from '@codemirror/state';
import { describe, expect, it } from 'vitest';

import { problemsToDiagnostics } from './diagnostics';

const doc = Text.of(['PIN_MIN_LENGTH = 6', 'PIN_MAX_LENGTH = 8', '', 'def options(user, env):']);

describe('problemsToDiagnostics', () => {
  it('ok/marks the token at line and column', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 2, column: 18, message: 'too long' }]);
    expect(d).toMatchObject({ severity: 'error', message: 'too long' });
    expect(doc.sliceString(d!.from, d!.to)).toBe('8');
  });

  it('ok/marks to the end of the line when no token starts there', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 4, column: 12, message: 'x' }]);
    expect(doc.sliceString(d!.from, d!.to)).toBe('(user, env):');
  });

  it('ok/marks the whole line for a problem past its end', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 1, column: 19, message: 'got newline' }]);
    expect(doc.sliceString(d!.from, d!.to)).toBe('PIN_MIN_LENGTH = 6');
  });

  it('ok/clamps lines and columns beyond the document', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 99, column: 99, message: 'got end of file' }]);
    expect(doc.sliceString(d!.from, d!.to)).toBe('def options(user, env):');
  });

  it('ok/a point on an empty line', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 3, column: 1, message: 'x' }]);
    expect(d!.from).toBe(d!.to);
  });

  it('ok/adds the path of the offending value', () => {
    const [d] = problemsToDiagnostics(doc, [{ line: 1, column: 1, message: 'bad', path: 'pin.min_length' }]);
    expect(d!.message).toBe('bad (pin.min_length)');
    expect(doc.sliceString(d!.from, d!.to)).toBe('PIN_MIN_LENGTH');
  });
});
