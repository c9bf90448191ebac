import { MantineProvider } from '@mantine/core';
import { isValidElement, type ReactElement, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

import type { Connection } from './connection';
import { ConnectionPager } from './ConnectionPager';

type Props = Parameters<typeof ConnectionPager>[0];

function pager(page: number) {
  return { page, hasPrevious: page > 1, next: vi.fn(), previous: vi.fn() };
}

function html(props: Props): string {
  return renderToStaticMarkup(
    <MantineProvider>
      <ConnectionPager {...props} />
    </MantineProvider>,
  );
}

/** button finds the button labelled label in the element tree ConnectionPager returns. */
function button(tree: ReactNode, label: string): ReactElement<{ disabled?: boolean; onClick?: () => void }> {
  const found: ReactElement<{ disabled?: boolean; onClick?: () => void }>[] = [];
  const walk = (n: ReactNode) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!isValidElement<{ children?: ReactNode }>(n)) return;
    if (n.props.children === label) found.push(n as ReactElement<{ disabled?: boolean; onClick?: () => void }>);
    walk(n.props.children);
  };
  walk(tree);
  const b = found[0];
  if (!b) throw new Error(`no button ${label}`);
  return b;
}

const more: Connection = { totalCount: 120, pageInfo: { hasNextPage: true, endCursor: 'c2' } };
const last: Connection = { totalCount: 120, pageInfo: { hasNextPage: false, endCursor: 'c3' } };

describe('ConnectionPager', () => {
  it('ok/shows the page and the total from the connection', () => {
    expect(html({ pager: pager(2), connection: more })).toContain('Page 2 · 120 in all');
  });

  it('ok/no total while the first answer loads, and no way on', () => {
    const out = html({ pager: pager(1), connection: undefined });
    expect(out).toContain('Page 1');
    expect(out).not.toContain('in all');
    const tree = ConnectionPager({ pager: pager(1), connection: undefined });
    expect(button(tree, 'Next page').props.disabled).toBe(true);
    expect(button(tree, 'Previous page').props.disabled).toBe(true);
  });

  it('ok/next hands the end cursor to the pager, previous goes back', () => {
    const p = pager(2);
    const tree = ConnectionPager({ pager: p, connection: more });
    expect(button(tree, 'Next page').props.disabled).toBe(false);
    button(tree, 'Next page').props.onClick?.();
    expect(p.next).toHaveBeenCalledWith('c2');
    button(tree, 'Previous page').props.onClick?.();
    expect(p.previous).toHaveBeenCalledOnce();
  });

  it('ok/the last page offers no next page', () => {
    expect(button(ConnectionPager({ pager: pager(3), connection: last }), 'Next page').props.disabled).toBe(true);
  });
});
