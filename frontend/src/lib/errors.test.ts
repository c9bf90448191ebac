import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { CombinedError } from 'urql';
import i18n, { LANGUAGES, resources } from '../i18n';
import { apiError, codeMessage } from './errors';
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
    expect(apiError(graphQLError('RATE_LIMITED', ''))?.message).toBe(i18n.t('errors:code.RATE_LIMITED', { lng: 'en' }));
    expect(apiError(graphQLError('RATE_LIMITED', ''))?.message).toMatch(/Too many attempts/);
    expect(apiError(graphQLError('NO_SUCH_CODE', ''))?.message).toBe('');
  });
});

describe('apiError in German', () => {
  it("ok/uses the catalogue's words, with the server's parameters, instead of the server's English", async () => {
    await i18n.changeLanguage('de');
    try {
      expect(apiError(graphQLError('CONFLICT', 'A card is already being made.'))?.message).toMatch(/Auftrag, der noch läuft/);
      const e = apiError({
        graphQLErrors: [{ message: 'x', extensions: { code: 'INVALID_INPUT', field: 'pin' } }] as unknown as CombinedError['graphQLErrors'],
        networkError: undefined,
        message: 'x',
      });
      expect(e?.message).toBe('Der Wert von „pin“ ist ungültig. Bitte prüfen Sie Ihre Eingabe.');
      expect(codeMessage('RATE_LIMITED', { retryAfterSeconds: 30 })).toBe('Zu viele Versuche. Bitte versuchen Sie es in 30 Sekunden erneut.');
    } finally {
      await i18n.changeLanguage('en');
    }
    expect(codeMessage('RATE_LIMITED', { retryAfterSeconds: 1 })).toBe('Too many attempts. Try again in 1 second.');
  });
});

describe('error words', () => {
  const codes = schemaErrorCodes();

  it('ok/the schema lists the codes', () => {
    expect(codes).toContain('INTERNAL');
    expect(codes.length).toBeGreaterThan(10);
  });

  // A code the server may send without words here would reach a person as a bare code or a
  // message in the server's language.
  for (const language of LANGUAGES) {
    const words = (resources[language]?.errors?.code ?? {}) as Record<string, string | undefined>;
    it(`ok/every code of the schema has words in ${language}`, () => {
      const missing = codes.filter((c) => (words[c] ?? '').trim() === '');
      expect(missing).toEqual([]);
    });

    it(`ok/no words in ${language} for a code the schema lacks`, () => {
      expect(Object.keys(words).filter((c) => !codes.includes(c))).toEqual([]);
    });
  }
});

describe('TPM evidence refusals', () => {
  it('ok/every reason of server/tpmverify has words, and INVALID_INPUT with one says it', () => {
    for (const reason of ['TPM_EVIDENCE_MISSING', 'TPM_EVIDENCE_INVALID', 'TPM_ROOT_UNKNOWN', 'TPM_CHALLENGE_FAILED', 'TPM_KEY_MISMATCH', 'TPM_KEY_NOT_FIXED']) {
      expect(i18n.exists(`tpm:reason.${reason}`)).toBe(true);
    }
    expect(codeMessage('INVALID_INPUT', { reason: 'TPM_ROOT_UNKNOWN' })).toMatch(/maker of this computer's TPM/);
    expect(codeMessage('INVALID_INPUT', { reason: 'SOMETHING_ELSE' })).toBe(codeMessage('INVALID_INPUT'));
  });
});
