// The server names every error with extensions.code (graph/errors.go); the SPA decides
// what to show from the code, never from the message text.
import type { CombinedError } from 'urql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'ILLEGAL_STATE'
  | 'USER_NOT_ACTIVE'
  | 'CONFLICT'
  | 'SCRIPT_ERROR'
  | 'QUERY_TOO_COMPLEX'
  | 'INTROSPECTION_DISABLED'
  | 'TIMEOUT'
  | 'INTERNAL';

/**
 * friendlyMessages replaces the server's message for codes whose message is written for
 * a developer (it names a limit, say): the SPA's own operations never hit these, so a
 * person seeing one can only reload or report it.
 */
const friendlyMessages: Partial<Record<ErrorCode, string>> = {
  QUERY_TOO_COMPLEX: 'This page asked the server for more than it answers at once. Reload the page; if it happens again, tell your administrator.',
  INTROSPECTION_DISABLED: 'Only administrators may read the API schema.',
  TIMEOUT: 'The server took too long to answer. Try again in a moment.',
};

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
    const friendly = code === undefined ? undefined : friendlyMessages[code as ErrorCode];
    return { code, message: friendly ?? first.message, extensions };
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
