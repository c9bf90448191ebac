import { Divider, NavLink, Text } from '@mantine/core';
import { Link, useLocation } from 'react-router';

import { isAdmin, type SessionUser } from '../auth/session';
import { isOperator } from '../operator/role';

interface Item {
  to: string;
  label: string;
  /** match: the item is current for this path and the paths below it. */
  match: (path: string) => boolean;
}

const selfService: Item[] = [
  { to: '/', label: 'Start page', match: (p) => p === '/' || p.startsWith('/orders') || p === '/get-virtual-smart-card' },
  { to: '/cards', label: 'Cards', match: (p) => p.startsWith('/cards') },
];

const operatorConsole: Item[] = [{ to: '/operator/people', label: 'People', match: (p) => p.startsWith('/operator') }];

const administration: Item[] = [
  { to: '/admin/script', label: 'Option script', match: (p) => p.startsWith('/admin/script') },
  { to: '/admin/users', label: 'Users', match: (p) => p.startsWith('/admin/users') },
  { to: '/admin/orders', label: 'Orders', match: (p) => p.startsWith('/admin/orders') },
  { to: '/admin/audit', label: 'Audit log', match: (p) => p.startsWith('/admin/audit') },
  { to: '/playground', label: 'GraphQL playground', match: (p) => p.startsWith('/playground') },
];

function NavItems({ items }: { items: Item[] }) {
  const { pathname } = useLocation();
  return items.map((item) => {
    const active = item.match(pathname);
    return (
      <NavLink
        key={item.to}
        component={Link}
        to={item.to}
        label={item.label}
        active={active}
        aria-current={active ? 'page' : undefined}
      />
    );
  });
}

export function MainNav({ user }: { user: SessionUser }) {
  return (
    <>
      <NavItems items={selfService} />
      {isOperator(user) && (
        <>
          <Divider my="sm" />
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
            Operator console
          </Text>
          <NavItems items={operatorConsole} />
        </>
      )}
      {isAdmin(user) && (
        <>
          <Divider my="sm" />
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
            Administration
          </Text>
          <NavItems items={administration} />
        </>
      )}
    </>
  );
}
