import { useCallback, useState } from 'react';

/**
 * useCursorPager pages a Relay connection forwards and back: it keeps the stack of `after`
 * cursors of the pages before the current one.
 */
export function useCursorPager() {
  const [stack, setStack] = useState<(string | null)[]>([]);
  const after = stack.length > 0 ? stack[stack.length - 1] : null;
  const next = useCallback((endCursor: string | null | undefined) => {
    if (endCursor) setStack((s) => [...s, endCursor]);
  }, []);
  const previous = useCallback(() => setStack((s) => s.slice(0, -1)), []);
  const reset = useCallback(() => setStack([]), []);
  return { after, page: stack.length + 1, next, previous, reset, hasPrevious: stack.length > 0 };
}

/** nodesOf flattens a connection's edges into its nodes, skipping null edges. */
export function nodesOf<N>(conn: { edges?: ({ node?: N | null } | null)[] | null } | undefined | null): N[] {
  return (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
}
