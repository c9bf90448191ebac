// The server names every error with extensions.code (graph/errors.go); the SPA decides
// what to show from the code, never from the message text.
import type { CombinedError } from 'urql';
import { graphql } from '../gql';
import type { ErrorCode } from '../gql/graphql';

export type { ErrorCode };

// graphql-codegen generates only the types some document uses. This document, which the SPA
// never sends, makes it generate ErrorCode from the schema's enum, so the SPA's codes are the
// server's and a new one fails the type check until it has words below.
graphql(`
  query ErrorCodes {
    errorCodes
  }
`);

/** The languages the SPA speaks (index.html says lang="en"). */
export type Language = 'en';

const language: Language = 'en';

/**
 * codeWords says in each language what a code means to a person. Record<ErrorCode, string>
 * makes the type check refuse a code without words; errors.test.ts checks the same against
 * the schema itself.
 */
export const codeWords: Record<Language, Record<ErrorCode, string>> = {
  en: {
    UNAUTHENTICATED: 'Sign in first. Your session may have ended.',
    FORBIDDEN: 'You may not do this.',
    NOT_FOUND: 'It does not exist, or it is not yours.',
    INVALID_INPUT: 'A value is not valid. Check what you entered.',
    ILLEGAL_STATE: 'This is not possible at this step of the order. Reload the page to see where it is.',
    USER_NOT_ACTIVE: 'Your account may not order cards right now. Ask your administrator.',
    TOKEN_INVALID: 'This Desktop App link is not valid.',
    TOKEN_EXPIRED: 'This Desktop App link has expired. Make a new one in the portal.',
    TOKEN_ALREADY_USED: 'This Desktop App link was used already.',
    PIN_POLICY: 'The PIN does not meet the rules for this card.',
    SCRIPT_ERROR: 'The option script has errors.',
    CONFLICT: 'Something is in the way, such as an order that is still running.',
    RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
    QUERY_TOO_COMPLEX:
      'This page asked the server for more than it answers at once. Reload the page; if it happens again, tell your administrator.',
    REQUEST_TOO_LARGE: 'What was sent is larger than the server accepts.',
    INTROSPECTION_DISABLED: 'Only administrators may read the API schema.',
    TIMEOUT: 'The server took too long to answer. Try again in a moment.',
    UNAVAILABLE: 'A service the server needs cannot be reached right now. Try again in a moment.',
    INTERNAL: 'Something went wrong on the server. Try again; if it happens again, tell your administrator.',
  },
};

/**
 * ownWords are the codes whose server message is written for a developer (it names a limit,
 * say): the SPA's own operations never hit these, so a person seeing one can only reload or
 * report it, and reads the SPA's words instead. For the other codes the server's message is
 * the more precise one (it names the field or the step), and the words stand in when it has none.
 */
const ownWords: ReadonlySet<string> = new Set<ErrorCode>(['QUERY_TOO_COMPLEX', 'REQUEST_TOO_LARGE', 'INTROSPECTION_DISABLED', 'TIMEOUT']);

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(codeWords[language], code);
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
    const words = code !== undefined && isErrorCode(code) ? codeWords[language][code] : undefined;
    const message = words !== undefined && (ownWords.has(code ?? '') || first.message === '') ? words : first.message;
    return { code, message, extensions };
  }
  if (err.networkError) {
    return { code: undefined, message: 'The server cannot be reached. Check your connection and try again.', extensions: {} };
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
