import { Alert, Anchor, MultiSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import type { OrderState, OrderWhereInput } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { processName } from '../operator/words';
import { failureWords } from '../wizard/orderState';

const OrdersDoc = graphql(`
  query AdminOrders($after: Cursor, $where: OrderWhereInput) {
    orders(first: 25, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          process
          state
          createdAt
          updatedAt
          failureReason
          user {
            id
            username
          }
          card {
            id
            serial
          }
        }
      }
    }
  }
`);

const ORDER_STATES: OrderState[] = [
  'STARTED',
  'AWAITING_DESKTOP_APP',
  'DESKTOP_APP_CONNECTED',
  'CREATING_CARD',
  'ISSUING_CERTIFICATES',
  'CARD_READY',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'EXPIRED',
];

/** ordersWhere builds the filter from the form: states and a user name fragment. */
export function ordersWhere(states: OrderState[], user: string): OrderWhereInput | undefined {
  const where: OrderWhereInput = {};
  if (states.length > 0) where.stateIn = states;
  if (user.trim()) where.hasUserWith = [{ usernameContainsFold: user.trim() }];
  return Object.keys(where).length > 0 ? where : undefined;
}

export default function OrdersPage() {
  const [states, setStates] = useState<OrderState[]>([]);
  const [user, setUser] = useState('');
  const [debouncedUser] = useDebouncedValue(user, 300);
  const where = ordersWhere(states, debouncedUser);
  const pager = useConnectionPager(where);
  const [{ data, fetching, error }] = useQuery({
    query: OrdersDoc,
    variables: { after: pager.after, where },
    requestPolicy: 'cache-and-network',
  });
  const orders = nodesOf(data?.orders);
  const problem = apiError(error);
  const { t } = useTranslation('admin');

  return (
    <Stack>
      <Title order={1}>{t('orders.title')}</Title>
      <Stack gap="xs" component="form" role="search" aria-label={t('orders.filter')} onSubmit={(e) => e.preventDefault()}>
        <MultiSelect
          label={t('orders.state')}
          placeholder={states.length === 0 ? t('orders.anyState') : undefined}
          data={ORDER_STATES.map((s) => ({ value: s, label: t(`common:state.order.${s}`) }))}
          value={states}
          onChange={(v) => setStates(ORDER_STATES.filter((s) => v.includes(s)))}
          clearable
          maw={640}
        />
        <TextInput
          label={t('orders.user')}
          placeholder={t('orders.userPlaceholder')}
          value={user}
          onChange={(e) => setUser(e.currentTarget.value)}
          maw={320}
        />
      </Stack>
      {problem && (
        <Alert color="red" role="alert">
          {problem.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={800}>
        <Table striped aria-busy={fetching} aria-label={t('orders.table')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('orders.column.order')}</Table.Th>
              <Table.Th>{t('orders.column.user')}</Table.Th>
              <Table.Th>{t('orders.column.state')}</Table.Th>
              <Table.Th>{t('orders.column.created')}</Table.Th>
              <Table.Th>{t('orders.column.updated')}</Table.Th>
              <Table.Th>{t('orders.column.card')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {orders.map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {o.id}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {processName(o.process)}
                  </Text>
                </Table.Td>
                <Table.Td>{o.user.username}</Table.Td>
                <Table.Td>
                  <StateBadge kind="order" state={o.state} />
                  {o.failureReason && (
                    <Text size="xs" c="dimmed">
                      {failureWords(o.failureReason)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{formatDateTime(o.createdAt)}</Table.Td>
                <Table.Td>{formatDateTime(o.updatedAt)}</Table.Td>
                <Table.Td>
                  {o.card ? (
                    <Text size="xs" ff="monospace">
                      {o.card.serial}
                    </Text>
                  ) : (
                    t('common:empty')
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
            {!fetching && orders.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={6}>{t('orders.none')}</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ConnectionPager pager={pager} connection={data?.orders} />
      <Text size="sm" c="dimmed">
        <Trans t={t} i18nKey="orders.playground" components={{ 1: <Anchor component={Link} to="/playground" /> }} />
      </Text>
    </Stack>
  );
}
