import { Alert, Button, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { useUser } from '../auth/session';
import { graphql } from '../gql';
import type { UserState } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { OpStartProcessDoc } from '../operator/operations';
import { ReasonDialog } from '../operator/ReasonDialog';

const UsersDoc = graphql(`
  query AdminUsers($after: Cursor) {
    users(first: 50, after: $after, orderBy: { field: USERNAME, direction: ASC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          username
          displayName
          email
          state
          roles
          lastLoginAt
          cards(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) {
            edges {
              node {
                id
                serial
                state
              }
            }
          }
        }
      }
    }
  }
`);

const SetUserStateDoc = graphql(`
  mutation SetUserState($userId: ID!, $state: UserState!, $reason: String) {
    setUserState(userId: $userId, state: $state, reason: $reason) {
      id
      state
    }
  }
`);

const EndUserSessionsDoc = graphql(`
  mutation EndUserSessions($userId: ID!, $reason: String!) {
    endUserSessions(userId: $userId, reason: $reason)
  }
`);

// Removing a card's record is an operator's "no information left": not a process of the
// person's (nothing is left to follow), so it is a plain mutation behind a confirmation
// that asks why, like every other action on someone else's things (the server refuses it
// without a reason and writes the reason to the audit log).
const PurgeCardDoc = graphql(`
  mutation PurgeCard($serial: String!, $reason: String!) {
    purgeCard(serial: $serial, reason: $reason)
  }
`);

const STATES: UserState[] = ['REGISTERED', 'ACTIVE', 'INACTIVE', 'LOCKED'];

/** UsersPage lists the users and lets an administrator change their state or end their sessions. */
export default function UsersPage() {
  const me = useUser();
  const pager = useConnectionPager();
  const [{ data, fetching, error }] = useQuery({
    query: UsersDoc,
    variables: { after: pager.after },
    requestPolicy: 'cache-and-network',
  });
  const [{ fetching: saving }, setUserState] = useMutation(SetUserStateDoc);
  const [, endUserSessions] = useMutation(EndUserSessionsDoc);
  const [confirmEnd, setConfirmEnd] = useState<{ id: string; username: string }>();
  const [confirmPurge, setConfirmPurge] = useState<{ serial: string; username: string }>();
  const [, purgeCard] = useMutation(PurgeCardDoc);
  const [purged, setPurged] = useState<string[]>([]);
  const [notice, setNotice] = useState<string>();
  const users = nodesOf(data?.users);
  const [{ fetching: unlocking }, startProcess] = useMutation(OpStartProcessDoc);
  const [confirmUnlock, setConfirmUnlock] = useState<{ cardId: string; serial: string; username: string }>();
  const navigate = useNavigate();

  // Unlocking someone's card asks why (the server refuses it without a reason), then opens
  // the same wizard the person uses (Next, Cancel, audit) on their card.
  const unlock = async (cardId: string, reason: string) => {
    setNotice(undefined);
    const res = await startProcess({ name: 'unlock-virtual-smart-card', card: cardId, reason });
    if (res.data) navigate(`/orders/${res.data.startProcess.id}`);
    return res;
  };

  // A state change waits for a confirmation that names its consequence and asks why.
  const { t } = useTranslation('operator');
  const { t: ta, i18n } = useTranslation('admin');
  const stateWords = (state: UserState) => ta(`common:state.user.${state}`);
  const [pending, setPending] = useState<{ userId: string; username: string; state: UserState; active: number; inUse: number }>();

  const change = async (userId: string, username: string, state: UserState, reason: string) => {
    setNotice(undefined);
    const res = await setUserState({ userId, state, reason });
    if (res.error) return res;
    const words = { name: username, state: stateWords(state).toLocaleLowerCase(i18n.language) };
    setNotice(state === 'LOCKED' || state === 'INACTIVE' ? ta('users.changedSignedOut', words) : ta('users.changed', words));
    return undefined;
  };

  const endSessions = async (userId: string, username: string, reason: string) => {
    setNotice(undefined);
    const res = await endUserSessions({ userId, reason });
    if (res.error) return res;
    setNotice(ta('users.sessionsEnded', { name: username, count: res.data?.endUserSessions ?? 0 }));
    return undefined;
  };

  // A refusal (no reason, the CA not answering) stays in the dialog, which says why.
  const purge = async (serial: string, username: string, reason: string) => {
    setNotice(undefined);
    const res = await purgeCard({ serial, reason });
    if (res.error) return res;
    setPurged((p) => [...p, serial]);
    setNotice(ta('users.purge.done', { serial, name: username }));
    return undefined;
  };

  const loadError = apiError(error);
  return (
    <Stack>
      <Title order={1}>{ta('users.title')}</Title>
      <Text c="dimmed" size="sm">
        {ta('users.intro')}
      </Text>
      {loadError && (
        <Alert color="red" role="alert">
          {loadError.message}
        </Alert>
      )}
      {notice && (
        <Alert color="green" role="status">
          {notice}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={800}>
        <Table striped aria-busy={fetching} aria-label={ta('users.table')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{ta('users.column.user')}</Table.Th>
              <Table.Th>{ta('users.column.email')}</Table.Th>
              <Table.Th>{ta('users.column.roles')}</Table.Th>
              <Table.Th>{ta('users.column.lastLogin')}</Table.Th>
              <Table.Th>{ta('users.column.state')}</Table.Th>
              <Table.Th>{ta('users.column.cards')}</Table.Th>
              <Table.Th>{ta('users.column.changeState')}</Table.Th>
              <Table.Th>{ta('users.column.sessions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {users.map((u) => (
              <Table.Tr key={u.id} data-testid={`user-${u.username}`}>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {u.displayName}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {u.username}
                  </Text>
                </Table.Td>
                <Table.Td>{u.email}</Table.Td>
                <Table.Td>{u.roles.map((r) => ta(`users.role.${r}`, { defaultValue: r })).join(', ')}</Table.Td>
                <Table.Td>{formatDateTime(u.lastLoginAt)}</Table.Td>
                <Table.Td>
                  <StateBadge kind="user" state={u.state} />
                </Table.Td>
                <Table.Td>
                  <Stack gap={4}>
                    {nodesOf(u.cards)
                      .filter((c) => !purged.includes(c.serial))
                      .map((c) => (
                      <Group key={c.id} gap={6} wrap="nowrap">
                        <Text size="xs" ff="monospace">
                          {c.serial}
                        </Text>
                        <StateBadge kind="card" state={c.state} label={ta('users.card', { serial: c.serial })} />
                        {c.state === 'LOCKED' && (
                          <Button
                            size="compact-xs"
                            variant="light"
                            loading={unlocking}
                            aria-label={ta('users.unlockCard', { serial: c.serial, name: u.username })}
                            onClick={() => setConfirmUnlock({ cardId: c.id, serial: c.serial, username: u.username })}
                          >
                            {ta('users.unlock')}
                          </Button>
                        )}
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          aria-label={ta('users.purge.label', { serial: c.serial, name: u.username })}
                          onClick={() => setConfirmPurge({ serial: c.serial, username: u.username })}
                        >
                          {ta('users.purge.button')}
                        </Button>
                      </Group>
                    ))}
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Select
                    aria-label={ta('users.stateOf', { name: u.username })}
                    data={STATES.map((s) => ({ value: s, label: stateWords(s) }))}
                    value={u.state}
                    allowDeselect={false}
                    disabled={saving || u.id === me.id}
                    size="xs"
                    w={140}
                    onChange={(v) => {
                      const state = STATES.find((s) => s === v);
                      if (!state || state === u.state) return;
                      const cards = nodesOf(u.cards);
                      setPending({
                        userId: u.id,
                        username: u.username,
                        state,
                        active: cards.filter((c) => c.state === 'ACTIVE').length,
                        inUse: cards.filter((c) => c.state === 'ACTIVE' || c.state === 'LOCKED').length,
                      });
                    }}
                  />
                </Table.Td>
                <Table.Td>
                  <Button
                    variant="default"
                    size="xs"
                    aria-label={ta('users.endSessionsOf', { name: u.username })}
                    disabled={u.id === me.id}
                    onClick={() => setConfirmEnd({ id: u.id, username: u.username })}
                  >
                    {ta('users.endSessions')}
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ReasonDialog
        opened={confirmPurge !== undefined}
        title={ta('users.purge.title', { serial: confirmPurge?.serial ?? '' })}
        consequence={ta('users.purge.consequence', { name: confirmPurge?.username ?? '' })}
        confirmLabel={ta('users.purge.confirm')}
        danger
        onClose={() => setConfirmPurge(undefined)}
        onConfirm={async (reason) => (confirmPurge ? purge(confirmPurge.serial, confirmPurge.username, reason) : undefined)}
      />
      <ReasonDialog
        opened={confirmEnd !== undefined}
        title={t('person.endSessions.title', { name: confirmEnd?.username ?? '' })}
        consequence={t('person.endSessions.consequence', { name: confirmEnd?.username ?? '' })}
        confirmLabel={t('person.endSessions.confirm')}
        danger
        onClose={() => setConfirmEnd(undefined)}
        onConfirm={async (reason) => (confirmEnd ? endSessions(confirmEnd.id, confirmEnd.username, reason) : undefined)}
      />
      <ReasonDialog
        opened={confirmUnlock !== undefined}
        title={t('card.action.unlock.title', { serial: confirmUnlock?.serial ?? '' })}
        consequence={t('card.action.unlock.consequence', { serial: confirmUnlock?.serial ?? '', owner: confirmUnlock?.username ?? '' })}
        confirmLabel={t('card.action.unlock.confirm')}
        onClose={() => setConfirmUnlock(undefined)}
        onConfirm={async (reason) => (confirmUnlock ? unlock(confirmUnlock.cardId, reason) : undefined)}
      />
      <ConnectionPager pager={pager} connection={data?.users} />
      <ReasonDialog
        opened={pending !== undefined}
        title={pending ? t('person.setState.title', { name: pending.username }) : ''}
        consequence={
          pending ? t(`person.setState.consequence.${pending.state}`, { name: pending.username, count: pending.state === 'LOCKED' ? pending.active : pending.inUse }) : ''
        }
        confirmLabel={t('person.setState.confirm')}
        danger={pending?.state === 'INACTIVE'}
        onClose={() => setPending(undefined)}
        onConfirm={async (reason) => (pending ? change(pending.userId, pending.username, pending.state, reason) : undefined)}
      />
    </Stack>
  );
}
