// Paging through Relay connections (users, orders, the audit log): one hook keeps where the
// reader is, one component (ConnectionPager) shows the page and the buttons from the
// connection itself. The state is a pure reducer, unit-tested in connection.test.ts.
import { useCallback, useReducer } from 'react';

/** Connection is what the pager reads of a Relay connection. */
export interface Connection {
  totalCount?: number | null;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/**
 * PagerState holds the `after` cursors of the pages before the current one, for the query they
 * came from (key). A cursor is only meaningful for that query: once the filter changes,
 * the pager is back at the first page.
 */
export interface PagerState {
  key: string;
  cursors: readonly string[];
}

/** PagerAction is a step of the reader, made for the query key it saw. */
export type PagerAction =
  | { type: 'next'; key: string; endCursor: string | null | undefined }
  | { type: 'previous'; key: string }
  | { type: 'first'; key: string };

/** cursorsFor returns the state's cursors when they belong to the query key, else none. */
function cursorsFor(state: PagerState, key: string): readonly string[] {
  return state.key === key ? state.cursors : [];
}

/** pagerReducer applies a step; a step made under another key starts from page 1. */
export function pagerReducer(state: PagerState, action: PagerAction): PagerState {
  const cursors = cursorsFor(state, action.key);
  switch (action.type) {
    case 'next':
      // A page without an end cursor has nothing after it: stay.
      return action.endCursor ? { key: action.key, cursors: [...cursors, action.endCursor] } : { key: action.key, cursors };
    case 'previous':
      return { key: action.key, cursors: cursors.slice(0, -1) };
    case 'first':
      return { key: action.key, cursors: [] };
  }
}

/** Pager is what a list page gets from useConnectionPager. */
export interface Pager {
  /** after is the cursor to query the current page with (null on the first). */
  after: string | null;
  /** page counts from 1. */
  page: number;
  hasPrevious: boolean;
  next: (endCursor: string | null | undefined) => void;
  previous: () => void;
  first: () => void;
}

/**
 * pagerView is what the hook returns for state under the current query key: a state
 * left from another filter reads as the first page, without a render in between.
 */
export function pagerView(state: PagerState, key: string): Pick<Pager, 'after' | 'page' | 'hasPrevious'> {
  const cursors = cursorsFor(state, key);
  return { after: cursors.at(-1) ?? null, page: cursors.length + 1, hasPrevious: cursors.length > 0 };
}

/**
 * useConnectionPager pages a Relay connection forwards and back. filter is the query's
 * filter (anything JSON can encode): when it changes, paging starts again at page 1.
 */
export function useConnectionPager(filter?: unknown): Pager {
  const key = JSON.stringify(filter ?? null);
  const [state, dispatch] = useReducer(pagerReducer, { key, cursors: [] });
  const next = useCallback((endCursor: string | null | undefined) => dispatch({ type: 'next', key, endCursor }), [key]);
  const previous = useCallback(() => dispatch({ type: 'previous', key }), [key]);
  const first = useCallback(() => dispatch({ type: 'first', key }), [key]);
  return { ...pagerView(state, key), next, previous, first };
}

/** nodesOf flattens a connection's edges into its nodes, skipping null edges. */
export function nodesOf<N>(conn: { edges?: ({ node?: N | null } | null)[] | null } | undefined | null): N[] {
  return (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
}
