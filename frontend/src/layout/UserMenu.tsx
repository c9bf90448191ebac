import { ActionIcon, Alert, Button, Group, Menu, Text } from '@mantine/core';
import { useRef, useState } from 'react';
import { useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { LOGOUT_PATH, loginUrl, useSession } from '../auth/session';
import { graphql } from '../gql';
import { apiError, type ApiError } from '../lib/errors';
import { StateBadge } from '../lib/StateBadge';
import { LanguageSwitcher } from '../i18n/LanguageSwitcher';

const SignOutEverywhereDoc = graphql(`
  mutation SignOutEverywhere {
    signOutEverywhere
  }
`);

/**
 * UserMenu is the header's right side: who is signed in, their state, and sign in/out.
 *
 * Sign out is a plain form POST, a top-level navigation: the server ends the session and
 * answers with a redirect to the identity provider's end_session endpoint, so that the
 * provider's session ends too, and script never sees the ID token that redirect carries.
 * "Sign out everywhere" first ends the person's other sessions, then signs out here the same
 * way.
 */
export function UserMenu() {
  const { t } = useTranslation();
  const { session } = useSession();
  const location = useLocation();
  const form = useRef<HTMLFormElement>(null);
  const [signingOut, setSigningOut] = useState(false);
  const [problem, setProblem] = useState<ApiError>();
  const [{ fetching: endingOthers }, signOutEverywhere] = useMutation(SignOutEverywhereDoc);

  if (session.status !== 'authenticated') {
    if (session.status === 'loading') return <LanguageSwitcher />;
    return (
      <Group gap="sm" wrap="nowrap">
        <LanguageSwitcher />
        <Button component="a" href={loginUrl(location.pathname + location.search)} variant="light">
          {t('user.signIn')}
        </Button>
      </Group>
    );
  }
  const { user } = session;
  const everywhere = async () => {
    setProblem(undefined);
    const res = await signOutEverywhere({});
    if (res.error) {
      setProblem(apiError(res.error));
      return;
    }
    setSigningOut(true);
    form.current?.requestSubmit();
  };
  return (
    <Group gap="sm" wrap="nowrap">
      <LanguageSwitcher />
      <Text size="sm" fw={500} visibleFrom="xs" data-testid="user-name">
        {user.displayName || user.username}
      </Text>
      <StateBadge kind="user" state={user.state} label={t('user.accountState')} />
      <form ref={form} method="post" action={LOGOUT_PATH} onSubmit={() => setSigningOut(true)} style={{ display: 'contents' }}>
        <Button type="submit" variant="default" size="xs" loading={signingOut}>
          {t('user.signOut')}
        </Button>
      </form>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <ActionIcon variant="subtle" aria-label={t('user.moreSignOut')} loading={endingOthers}>
            ⋯
          </ActionIcon>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item onClick={() => void everywhere()}>{t('user.signOutEverywhere')}</Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {problem && (
        <Alert color="red" role="alert" title={t('user.notSignedOutEverywhere')} withCloseButton onClose={() => setProblem(undefined)}>
          {problem.message}
        </Alert>
      )}
    </Group>
  );
}
