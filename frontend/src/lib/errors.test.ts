import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { CombinedError } from 'urql';
import { apiError, codeWords } from './errors';
import schemaText from '../../../graph/schema.graphqls?raw';

/** schemaErrorCodes reads enum ErrorCode from the server's schema file itself. */
function schemaErrorCodes(): string[] {
  const doc = parse(schemaText);
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'ErrorCode') {
      return (def.values ?? []).map((v) => v.name.value);
    }
  }
  throw new Error('graph/schema.graphqls has no enum ErrorCode');
}

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

  it('ok/has words of its own when the server gives no message', () => {
    expect(apiError(graphQLError('RATE_LIMITED', ''))?.message).toBe(codeWords.en.RATE_LIMITED);
    expect(apiError(graphQLError('NO_SUCH_CODE', ''))?.message).toBe('');
  });
});

describe('codeWords', () => {
  const codes = schemaErrorCodes();

  it('ok/the schema lists the codes', () => {
    expect(codes).toContain('INTERNAL');
    expect(codes.length).toBeGreaterThan(10);
  });

  // A code the server may send without words here would reach a person as a bare code or a
  // message in the server's language.
  for (const [language, words] of Object.entries(codeWords)) {
    it(`ok/every code of the schema has words in ${language}`, () => {
      const table: Record<string, string | undefined> = words;
      const missing = codes.filter((c) => (table[c] ?? '').trim() === '');
      expect(missing).toEqual([]);
    });

    it(`ok/no words in ${language} for a code the schema lacks`, () => {
      expect(Object.keys(words).filter((c) => !codes.includes(c))).toEqual([]);
    });
  }
});
