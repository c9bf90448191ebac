import { describe, expect, it } from 'vitest';
import type { CombinedError } from 'urql';
import { apiError } from './errors';

function graphQLError(code: string, message: string): Pick<CombinedError, 'graphQLErrors' | 'networkError' | 'message'> {
  return {
    graphQLErrors: [{ message, extensions: { code } }] as unknown as CombinedError['graphQLErrors'],
    networkError: undefined,
    message,
  };
}

describe('apiError', () => {
  it('ok/shows a person a message of their own for refusals written for developers', () => {
    for (const code of ['QUERY_TOO_COMPLEX', 'INTROSPECTION_DISABLED', 'TIMEOUT']) {
      const e = apiError(graphQLError(code, 'The query selects more than 1000 fields; at most 1000 are allowed.'));
      expect(e?.code).toBe(code);
      expect(e?.message).not.toMatch(/1000|fields|query/);
      expect(e?.message.length).toBeGreaterThan(10);
    }
  });

  it("ok/keeps the server's message for other codes", () => {
    expect(apiError(graphQLError('CONFLICT', 'A card is already being made.'))?.message).toBe('A card is already being made.');
  });
});
