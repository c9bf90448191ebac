import { Button, Group, Text } from '@mantine/core';
import { useState } from 'react';
import { useLocation } from 'react-router';

import { loginUrl, useSession } from '../auth/session';
import { StateBadge } from '../lib/StateBadge';

/** UserMenu is the header's right side: who is signed in, their state, and sign in/out. */
export function UserMenu() {
  const { session, signOut } = useSession();
  const location = useLocation();
  const [signingOut, setSigningOut] = useState(false);

  if (session.status !== 'authenticated') {
    if (session.status === 'loading') return null;
    return (
      <Button component="a" href={loginUrl(location.pathname + location.search)} variant="light">
        Sign in
      </Button>
    );
  }
  const { user } = session;
  return (
    <Group gap="sm" wrap="nowrap">
      <Text size="sm" fw={500} visibleFrom="xs" data-testid="user-name">
        {user.displayName || user.username}
      </Text>
      <StateBadge state={user.state} label="Account state" />
      <Button
        variant="default"
        size="xs"
        loading={signingOut}
        onClick={() => {
          setSigningOut(true);
          void signOut().finally(() => setSigningOut(false));
        }}
      >
        Sign out
      </Button>
    </Group>
  );
}
