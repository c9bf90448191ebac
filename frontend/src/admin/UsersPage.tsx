import { Alert, Button, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { useUser } from '../auth/session';
import { graphql } from '../gql';
import type { UserState } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError, type ApiError } from '../lib/errors';
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
// person's (nothing is left to follow), so it is a plain mutation behind a confirmation.
const PurgeCardDoc = graphql(`
  mutation PurgeCard($serial: String!) {
    purgeCard(serial: $serial)
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
  const [{ fetching: purging }, purgeCard] = useMutation(PurgeCardDoc);
  const [purged, setPurged] = useState<string[]>([]);
  const [problem, setProblem] = useState<ApiError>();
  const [problemTitle, setProblemTitle] = useState('The state was not changed');
  const [notice, setNotice] = useState<string>();
  const users = nodesOf(data?.users);
  const [{ fetching: unlocking }, startProcess] = useMutation(OpStartProcessDoc);
  const [confirmUnlock, setConfirmUnlock] = useState<{ cardId: string; serial: string; username: string }>();
  const navigate = useNavigate();

  // Unlocking someone's card asks why (the server refuses it without a reason), then opens
  // the same wizard the person uses (Next, Cancel, audit) on their card.
  const unlock = async (cardId: string, reason: string) => {
    setProblem(undefined);
    setNotice(undefined);
    const res = await startProcess({ name: 'unlock-virtual-smart-card', card: cardId, reason });
    if (res.data) navigate(`/orders/${res.data.startProcess.id}`);
    return res;
  };

  // A state change waits for a confirmation that names its consequence and asks why.
  const { t } = useTranslation('operator');
  const [pending, setPending] = useState<{ userId: string; username: string; state: UserState; active: number; inUse: number }>();

  const change = async (userId: string, username: string, state: UserState, reason: string) => {
    setProblem(undefined);
    setNotice(undefined);
    const res = await setUserState({ userId, state, reason });
    setProblemTitle('The state was not changed');
    if (res.error) return res;
    if (state === 'LOCKED' || state === 'INACTIVE') setNotice(`${username} is now ${state.toLowerCase()} and signed out everywhere.`);
    else setNotice(`${username} is now ${state.toLowerCase()}.`);
    return undefined;
  };

  const endSessions = async (userId: string, username: string, reason: string) => {
    setProblem(undefined);
    setNotice(undefined);
    const res = await endUserSessions({ userId, reason });
    if (res.error) return res;
    const n = res.data?.endUserSessions ?? 0;
    setNotice(`${username} is signed out everywhere (${n === 1 ? '1 session' : `${n} sessions`} ended).`);
    return undefined;
  };

  const purge = async (serial: string, username: string) => {
    setProblem(undefined);
    setNotice(undefined);
    const res = await purgeCard({ serial });
    setConfirmPurge(undefined);
    setProblemTitle('The card record was not deleted');
    if (res.error) setProblem(apiError(res.error));
    else {
      setPurged((p) => [...p, serial]);
      setNotice(`Card ${serial} of ${username} is deleted: its certificates are revoked and its record is gone.`);
    }
  };

  const loadError = apiError(error);
  return (
    <Stack>
      <Title order={1}>Users</Title>
      <Text c="dimmed" size="sm">
        Only active users can get a virtual smart card.
      </Text>
      {loadError && (
        <Alert color="red" role="alert">
          {loadError.message}
        </Alert>
      )}
      {problem && (
        <Alert color="red" role="alert" title={problemTitle}>
          {problem.message}
        </Alert>
      )}
      {notice && (
        <Alert color="green" role="status">
          {notice}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={800}>
        <Table striped aria-busy={fetching} aria-label="Users">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User</Table.Th>
              <Table.Th>E-mail</Table.Th>
              <Table.Th>Roles</Table.Th>
              <Table.Th>Last sign-in</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Cards</Table.Th>
              <Table.Th>Change state</Table.Th>
              <Table.Th>Sessions</Table.Th>
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
                <Table.Td>{u.roles.join(', ')}</Table.Td>
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
                        <StateBadge kind="card" state={c.state} label={`Card ${c.serial}`} />
                        {c.state === 'LOCKED' && (
                          <Button
                            size="compact-xs"
                            variant="light"
                            loading={unlocking}
                            aria-label={`Unlock card ${c.serial} of ${u.username}`}
                            onClick={() => setConfirmUnlock({ cardId: c.id, serial: c.serial, username: u.username })}
                          >
                            Unlock
                          </Button>
                        )}
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          aria-label={`Delete the record of card ${c.serial} of ${u.username}`}
                          onClick={() => setConfirmPurge({ serial: c.serial, username: u.username })}
                        >
                          Delete
                        </Button>
                      </Group>
                    ))}
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Select
                    aria-label={`State of ${u.username}`}
                    data={STATES.map((s) => ({ value: s, label: s.charAt(0) + s.slice(1).toLowerCase() }))}
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
                    aria-label={`End sessions of ${u.username}`}
                    disabled={u.id === me.id}
                    onClick={() => setConfirmEnd({ id: u.id, username: u.username })}
                  >
                    End sessions
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal
        opened={confirmPurge !== undefined}
        onClose={() => setConfirmPurge(undefined)}
        title={`Delete the record of card ${confirmPurge?.serial ?? ''}?`}
        centered
      >
        <Text mb="lg">
          The card of {confirmPurge?.username} stops working everywhere: every certificate still valid is revoked. Then the card
          and its certificates are removed from Self-Service; only the audit log keeps that it existed. This cannot be undone.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setConfirmPurge(undefined)} data-autofocus>
            Keep the card
          </Button>
          <Button
            color="red"
            loading={purging}
            onClick={() => {
              if (confirmPurge) void purge(confirmPurge.serial, confirmPurge.username);
            }}
          >
            Delete record
          </Button>
        </Group>
      </Modal>
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
