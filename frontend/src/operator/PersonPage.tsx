import { Alert, Anchor, Button, Card, Group, Loader, Select, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../gql';
import type { AuditEventWhereInput, UserState } from '../gql/graphql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { AuditTrail } from './AuditTrail';
import { CardActions } from './CardActions';
import { OpCancelOrderDoc, OpEndSessionsDoc, OpSetUserStateDoc } from './operations';
import { ReasonDialog } from './ReasonDialog';
import { CardTable, Fact, OrderTable } from './tables';

const PersonDoc = graphql(`
  query OperatorPerson($id: ID!) {
    node(id: $id) {
      __typename
      ... on User {
        id
        username
        displayName
        email
        state
        lastLoginAt
        createdAt
        cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {
          edges {
            node {
              id
              serial
              state
              createdAt
            }
          }
        }
        orders(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {
          edges {
            node {
              id
              process
              state
              createdAt
            }
          }
        }
      }
    }
  }
`);

const STATES: UserState[] = ['ACTIVE', 'LOCKED', 'INACTIVE', 'REGISTERED'];
const RUNNING = new Set(['STARTED', 'AWAITING_DESKTOP_APP', 'DESKTOP_APP_CONNECTED', 'CREATING_CARD', 'ISSUING_CERTIFICATES', 'CARD_READY', 'RESETTING_PIN']);

/** PersonPage shows an operator one person: details, state and its history, cards, orders, audit trail, and the actions on them. */
export default function PersonPage() {
  const { t } = useTranslation('operator');
  const { id = '' } = useParams();
  const [{ data, fetching, error }, reload] = useQuery({ query: PersonDoc, variables: { id }, requestPolicy: 'cache-and-network' });
  // An action reads the person again, and their trails with them.
  const [version, setVersion] = useState(0);
  const refresh = () => {
    reload({ requestPolicy: 'network-only' });
    setVersion((v) => v + 1);
  };
  const person = data?.node?.__typename === 'User' ? data.node : undefined;
  const problem = error ? apiError(error) : undefined;
  const [dialog, setDialog] = useState<'state' | 'sessions' | { cancel: string }>();
  const [target, setTarget] = useState<UserState>('LOCKED');
  const [, setState] = useMutation(OpSetUserStateDoc);
  const [, endSessions] = useMutation(OpEndSessionsDoc);
  const [, cancelOrder] = useMutation(OpCancelOrderDoc);
  const cards = nodesOf(person?.cards);
  const orders = nodesOf(person?.orders);
  // The person's trail: what they did, and what was done about them (their account, cards,
  // orders, certificates), whoever did it.
  const trail = useMemo<AuditEventWhereInput>(() => ({ or: [{ actorID: id }, { subjectID: id }] }), [id]);
  const history = useMemo<AuditEventWhereInput>(() => ({ objectType: 'User', objectID: id, action: 'user.set_state' }), [id]);

  if (fetching && !data) return <Loader aria-label={t('loading')} />;
  const name = person ? person.displayName || person.username : '';
  const inUse = cards.filter((c) => c.state === 'ACTIVE' || c.state === 'LOCKED').length;
  const active = cards.filter((c) => c.state === 'ACTIVE').length;
  const stateConsequence = (s: UserState) =>
    t(`person.setState.consequence.${s}`, { name, count: s === 'LOCKED' ? active : inUse });

  return (
    <Stack>
      <Anchor component={Link} to="/operator/people">
        {t('person.back')}
      </Anchor>
      {problem && (
        <Alert color="red" role="alert" title={t('person.failed')}>
          {problem.message}
        </Alert>
      )}
      {!problem && !person && <Text>{t('person.notFound')}</Text>}
      {person && (
        <>
          <Title order={1}>{name}</Title>
          <Card withBorder>
            <Stack gap={4}>
              <Fact label={t('person.username')}>
                <Text>{person.username}</Text>
              </Fact>
              <Fact label={t('person.email')}>
                <Text>{person.email}</Text>
              </Fact>
              <Fact label={t('person.state')}>
                <StateBadge kind="user" state={person.state} />
              </Fact>
              <Fact label={t('person.lastLogin')}>
                <Text>{person.lastLoginAt ? formatDateTime(person.lastLoginAt) : t('person.never')}</Text>
              </Fact>
              <Fact label={t('person.since')}>
                <Text>{formatDateTime(person.createdAt)}</Text>
              </Fact>
              <Group mt="sm">
                <Button
                  variant="light"
                  onClick={() => {
                    setTarget(person.state === 'ACTIVE' ? 'LOCKED' : 'ACTIVE');
                    setDialog('state');
                  }}
                >
                  {t('person.setState.button')}
                </Button>
                <Button variant="light" onClick={() => setDialog('sessions')}>
                  {t('person.endSessions.button')}
                </Button>
              </Group>
            </Stack>
          </Card>

          <Title order={2}>{t('person.stateHistory')}</Title>
          <AuditTrail where={history} label={t('person.stateHistory')} refresh={version} />

          <Title order={2}>{t('person.cards')}</Title>
          {cards.length === 0 ? (
            <Text c="dimmed">{t('person.noCards')}</Text>
          ) : (
            <CardTable cards={cards} actions={(c) => <CardActions card={c} owner={name} onDone={refresh} />} />
          )}

          <Title order={2}>{t('person.orders')}</Title>
          {orders.length === 0 ? (
            <Text c="dimmed">{t('person.noOrders')}</Text>
          ) : (
            <OrderTable
              orders={orders}
              actions={(o) =>
                RUNNING.has(o.state) && (
                  <Button variant="light" color="red" size="xs" onClick={() => setDialog({ cancel: o.id })}>
                    {t('order.cancel.button')}
                  </Button>
                )
              }
            />
          )}

          <Title order={2}>{t('person.auditTrail')}</Title>
          <AuditTrail where={trail} exportPerson={person.id} label={t('person.auditTrail')} refresh={version} />

          <ReasonDialog
            opened={dialog === 'state'}
            title={t('person.setState.title', { name })}
            consequence={target === person.state ? t('person.setState.same') : stateConsequence(target)}
            confirmLabel={t('person.setState.confirm')}
            danger={target === 'INACTIVE'}
            onClose={() => setDialog(undefined)}
            onConfirm={async (reason) => {
              const res = await setState({ id: person.id, state: target, reason });
              if (!res.error) refresh();
              return res;
            }}
          >
            <Select
              label={t('person.setState.to')}
              data={STATES.map((s) => ({ value: s, label: t(`common:state.user.${s}`) }))}
              value={target}
              onChange={(v) => v && setTarget(v as UserState)}
              allowDeselect={false}
            />
          </ReasonDialog>
          <ReasonDialog
            opened={dialog === 'sessions'}
            title={t('person.endSessions.title', { name })}
            consequence={t('person.endSessions.consequence', { name })}
            confirmLabel={t('person.endSessions.confirm')}
            onClose={() => setDialog(undefined)}
            onConfirm={async (reason) => {
              const res = await endSessions({ id: person.id, reason });
              if (!res.error) refresh();
              return res;
            }}
          />
          <ReasonDialog
            opened={typeof dialog === 'object'}
            title={t('order.cancel.title')}
            consequence={t('order.cancel.consequence', { name })}
            confirmLabel={t('order.cancel.confirm')}
            danger
            onClose={() => setDialog(undefined)}
            onConfirm={async (reason) => {
              if (typeof dialog !== 'object') return undefined;
              const res = await cancelOrder({ id: dialog.cancel, reason });
              if (!res.error) refresh();
              return res;
            }}
          />
        </>
      )}
    </Stack>
  );
}
