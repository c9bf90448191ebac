import { describe, expect, it } from 'vitest';

import { nodesOf, pagerReducer, pagerView, type PagerAction, type PagerState } from './connection';

const start: PagerState = { key: 'null', cursors: [] };
const run = (actions: PagerAction[], state = start) => actions.reduce(pagerReducer, state);

describe('pager', () => {
  it('ok/the first page is queried without a cursor', () => {
    expect(pagerView(start, 'null')).toEqual({ after: null, page: 1, hasPrevious: false });
  });

  it('ok/next and previous walk the pages and their cursors', () => {
    const k = 'null';
    const third = run([
      { type: 'next', key: k, endCursor: 'c1' },
      { type: 'next', key: k, endCursor: 'c2' },
    ]);
    expect(pagerView(third, k)).toEqual({ after: 'c2', page: 3, hasPrevious: true });
    const second = pagerReducer(third, { type: 'previous', key: k });
    expect(pagerView(second, k)).toEqual({ after: 'c1', page: 2, hasPrevious: true });
    const first = pagerReducer(second, { type: 'previous', key: k });
    expect(pagerView(first, k)).toEqual({ after: null, page: 1, hasPrevious: false });
    // Previous on the first page stays there.
    expect(pagerView(pagerReducer(first, { type: 'previous', key: k }), k).page).toBe(1);
  });

  it('ok/a page without an end cursor has no next page', () => {
    const s = run([{ type: 'next', key: 'null', endCursor: null }, { type: 'next', key: 'null', endCursor: undefined }]);
    expect(pagerView(s, 'null').page).toBe(1);
  });

  it('ok/a new filter starts at page 1 at once, and its pages are its own', () => {
    const onOld = run([
      { type: 'next', key: 'old', endCursor: 'o1' },
      { type: 'next', key: 'old', endCursor: 'o2' },
    ], { key: 'old', cursors: [] });
    // The render with the new filter already queries the first page: a cursor of the old
    // query must never be sent with the new filter.
    expect(pagerView(onOld, 'new')).toEqual({ after: null, page: 1, hasPrevious: false });
    const onNew = pagerReducer(onOld, { type: 'next', key: 'new', endCursor: 'n1' });
    expect(onNew).toEqual({ key: 'new', cursors: ['n1'] });
    expect(pagerView(onNew, 'new')).toEqual({ after: 'n1', page: 2, hasPrevious: true });
  });

  it('ok/first goes back to page 1', () => {
    const s = run([{ type: 'next', key: 'k', endCursor: 'c1' }, { type: 'first', key: 'k' }], { key: 'k', cursors: [] });
    expect(pagerView(s, 'k').page).toBe(1);
  });
});

describe('nodesOf', () => {
  it('ok/skips null edges and nodes', () => {
    expect(nodesOf({ edges: [{ node: 1 }, null, { node: null }, { node: 2 }] })).toEqual([1, 2]);
  });
  it('ok/nothing before the answer', () => {
    expect(nodesOf(undefined)).toEqual([]);
    expect(nodesOf({ edges: null })).toEqual([]);
  });
});
