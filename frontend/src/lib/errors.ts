// The server names every error with extensions.code (graph/errors.go); the SPA decides
// what to show from the code, never from the message text.
import type { CombinedError } from 'urql';
import { graphql } from '../gql';
import type { ErrorCode } from '../gql/graphql';
import i18n, { currentLanguage } from '../i18n';

export type { ErrorCode };

// graphql-codegen generates only the types some document uses. This document, which the SPA
// never sends, makes it generate ErrorCode from the schema's enum, so the SPA's codes are the
// server's and a new one fails the type check until it has words below.
graphql(`
  query ErrorCodes {
    errorCodes
  }
`);

/**
 * codeKey is the catalogue key (namespace errors, locales/<language>/errors.json) of the words
 * for a code. errors.test.ts checks against the schema itself that every code has words in
 * every language, and none without a code.
 */
export function codeKey(code: ErrorCode): `errors:code.${ErrorCode}` {
  return `errors:code.${code}`;
}

/**
 * ownWords are the codes whose server message is written for a developer (it names a limit,
 * say): the SPA's own operations never hit these, so a person seeing one can only reload or
 * report it, and reads the SPA's words instead. For the other codes the server's message is
 * the more precise one (it names the field or the step), but the server writes it in English
 * only: in any other language the SPA's words (with the server's parameters) stand in.
 */
const ownWords: ReadonlySet<string> = new Set<ErrorCode>(['QUERY_TOO_COMPLEX', 'REQUEST_TOO_LARGE', 'INTROSPECTION_DISABLED', 'TIMEOUT']);

function isErrorCode(code: string): code is ErrorCode {
  return i18n.exists(`errors:code.${code}`, { lng: 'en' });
}

/**
 * codeMessage says what a code means in the current language, with the parameters the server
 * put in the error's extensions (graph/errors.go, server/errs WithDetails): the field that is
 * not valid, the seconds to wait, the reference to quote.
 */
export function codeMessage(code: ErrorCode, extensions: Record<string, unknown> = {}): string {
  const { field, retryAfterSeconds, reference, reason } = extensions;
  // TPM evidence refusals (server/tpmverify) carry their reason; the words are in namespace tpm.
  if (code === 'INVALID_INPUT' && typeof reason === 'string' && i18n.exists(`tpm:reason.${reason}`)) {
    return i18n.t(`tpm:reason.${reason}`);
  }
  if (code === 'INVALID_INPUT' && typeof field === 'string' && field !== '') {
    return i18n.t('errors:withParams.INVALID_INPUT_field', { field });
  }
  if (code === 'RATE_LIMITED' && typeof retryAfterSeconds === 'number' && retryAfterSeconds > 0) {
    return i18n.t('errors:withParams.RATE_LIMITED_retry', { count: Math.ceil(retryAfterSeconds) });
  }
  if (code === 'INTERNAL' && typeof reference === 'string' && reference !== '') {
    return i18n.t('errors:withParams.INTERNAL_reference', { reference });
  }
  return i18n.t(codeKey(code));
}

export interface ApiError {
  code: ErrorCode | string | undefined;
  message: string;
  extensions: Record<string, unknown>;
}

type ErrorLike = Pick<CombinedError, 'graphQLErrors' | 'networkError' | 'message'>;

/** apiError picks the first GraphQL error (or the network error) in a form to show. */
export function apiError(err: ErrorLike | undefined | null): ApiError | undefined {
  if (!err) return undefined;
  const first = err.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as Record<string, unknown>;
    const code = typeof extensions.code === 'string' ? extensions.code : undefined;
    const known = code !== undefined && isErrorCode(code) ? code : undefined;
    const ours = known !== undefined && (ownWords.has(known) || first.message === '' || currentLanguage() !== 'en');
    const message = ours ? codeMessage(known, extensions) : first.message;
    return { code, message, extensions };
  }
  if (err.networkError) {
    return { code: undefined, message: i18n.t('errors:network'), extensions: {} };
  }
  return { code: undefined, message: err.message, extensions: {} };
}

/** conflictOrderId returns the running order that made startProcess fail with CONFLICT. */
export function conflictOrderId(err: ApiError | undefined): string | undefined {
  if (err?.code !== 'CONFLICT') return undefined;
  const id = err.extensions.orderId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export interface ScriptProblem {
  line: number;
  column: number;
  message: string;
  path?: string | null;
}

/** scriptProblems returns the per-line problems of a SCRIPT_ERROR (empty for any other error). */
export function scriptProblems(err: ApiError | undefined): ScriptProblem[] {
  if (err?.code !== 'SCRIPT_ERROR' || !Array.isArray(err.extensions.errors)) return [];
  return err.extensions.errors.flatMap((e: unknown): ScriptProblem[] => {
    if (typeof e !== 'object' || e === null) return [];
    const { line, column, message, path } = e as Record<string, unknown>;
    if (typeof line !== 'number' || typeof message !== 'string') return [];
    return [{ line, column: typeof column === 'number' ? column : 1, message, path: typeof path === 'string' ? path : null }];
  });
}
