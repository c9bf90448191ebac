import { AppShell, Burger, Group, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';

import { useSession } from '../auth/session';
import { MainNav } from './MainNav';
import classes from './SkipLink.module.css';
import { UserMenu } from './UserMenu';

/**
 * inMain is the portalProps of a page's menus: their dropdown is rendered at the end of the
 * page's main landmark rather than of the body, so that, open, it is part of the page for
 * landmark navigation (axe's "region"), and, as a portal still, no box of the page clips it.
 */
export const inMain = { target: '#main-content' };

/**
 * AppLayout is the frame of every page: a header with the product name and the user, a
 * navigation bar (behind a burger menu on phones) and the page.
 */
export function AppLayout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { session } = useSession();
  const [opened, { toggle, close }] = useDisclosure(false);
  const location = useLocation();
  const signedIn = session.status === 'authenticated';
  // Below the sm breakpoint the closed navigation is only moved off screen; inert keeps
  // keyboard and screen reader users out of it too.
  const phone = useMediaQuery('(max-width: 48em)') ?? false;

  // On phones the menu covers the page: close it once the user has picked a page.
  useEffect(close, [location.pathname, close]);

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={signedIn ? { width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } } : undefined}
      padding="md"
    >
      {/* First in the tab order: keyboard and screen reader users jump past header and navigation. */}
      <a href="#main-content" className={classes.skip}>
        {t('app.skipToContent')}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            {signedIn && (
              <Burger
                opened={opened}
                onClick={toggle}
                hiddenFrom="sm"
                size="sm"
                aria-label={t('nav.toggle')}
                aria-expanded={opened}
                aria-controls="main-navigation"
              />
            )}
            <UnstyledButton component={Link} to="/" aria-label={t('app.home')}>
              <Text fw={700} size="lg">
                {t('app.name')}{' '}
                <Text span c="dimmed" fw={500} visibleFrom="xs">
                  {t('app.product')}
                </Text>
              </Text>
            </UnstyledButton>
          </Group>
          <UserMenu />
        </Group>
      </AppShell.Header>
      {signedIn && (
        <AppShell.Navbar p="sm" aria-label={t('nav.main')} inert={phone && !opened} id="main-navigation">
          <MainNav user={session.user} />
        </AppShell.Navbar>
      )}
      {/* AppShell.Main is the page's <main> landmark, AppShell.Navbar its <nav>. */}
      <AppShell.Main id="main-content" tabIndex={-1}>
        {children}
      </AppShell.Main>
    </AppShell>
  );
}
