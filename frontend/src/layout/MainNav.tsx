import { Divider, NavLink, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
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
  { to: '/', label: 'nav.start', match: (p) => p === '/' || p.startsWith('/orders') || p === '/get-virtual-smart-card' },
  { to: '/cards', label: 'nav.cards', match: (p) => p.startsWith('/cards') },
];

const operatorConsole: Item[] = [
  { to: '/operator/people', label: 'nav.people', match: (p) => p.startsWith('/operator') && !p.startsWith('/operator/audit') },
  { to: '/operator/audit', label: 'nav.operatorAudit', match: (p) => p.startsWith('/operator/audit') },
];

const administration: Item[] = [
  { to: '/admin/script', label: 'nav.script', match: (p) => p.startsWith('/admin/script') },
  { to: '/admin/users', label: 'nav.users', match: (p) => p.startsWith('/admin/users') },
  { to: '/admin/orders', label: 'nav.orders', match: (p) => p.startsWith('/admin/orders') },
  { to: '/admin/audit', label: 'nav.audit', match: (p) => p.startsWith('/admin/audit') },
  { to: '/playground', label: 'nav.playground', match: (p) => p.startsWith('/playground') },
];

function NavItems({ items }: { items: Item[] }) {
  const { pathname } = useLocation();
  const { t } = useTranslation();
  return items.map((item) => {
    const active = item.match(pathname);
    return (
      <NavLink
        key={item.to}
        component={Link}
        to={item.to}
        label={t(item.label)}
        active={active}
        aria-current={active ? 'page' : undefined}
      />
    );
  });
}

export function MainNav({ user }: { user: SessionUser }) {
  const { t } = useTranslation();
  return (
    <>
      <NavItems items={selfService} />
      {isOperator(user) && (
        <>
          <Divider my="sm" />
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
            {t('nav.console')}
          </Text>
          {/* An administrator reads the audit log under Administration; one link is enough. */}
          <NavItems items={isAdmin(user) ? operatorConsole.filter((i) => i.to !== '/operator/audit') : operatorConsole} />
        </>
      )}
      {isAdmin(user) && (
        <>
          <Divider my="sm" />
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
            {t('nav.administration')}
          </Text>
          <NavItems items={administration} />
        </>
      )}
    </>
  );
}
