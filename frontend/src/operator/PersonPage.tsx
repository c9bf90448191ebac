import { Alert, Anchor, Card, Group, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';

// Words on this page, kept together for the message catalogue.
const T = {
  notFound: 'There is no such person.',
  failed: 'The person could not be loaded',
  username: 'Username',
  email: 'E-mail',
  state: 'State',
  lastLogin: 'Last sign-in',
  never: 'never',
  since: 'Known since',
  cards: 'Cards',
  noCards: 'No cards.',
  serial: 'Serial',
  created: 'Created',
  orders: 'Orders',
  noOrders: 'No orders.',
  process: 'Process',
  order: 'Order',
  back: 'Back to People',
};

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

/** PersonPage shows an operator one person: details, cards and orders. */
export default function PersonPage() {
  const { id = '' } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: PersonDoc, variables: { id }, requestPolicy: 'cache-and-network' });
  const person = data?.node?.__typename === 'User' ? data.node : undefined;
  const problem = error ? apiError(error) : undefined;
  if (fetching && !data) return <Loader />;
  return (
    <Stack>
      <Anchor component={Link} to="/operator/people">
        {T.back}
      </Anchor>
      {problem && (
        <Alert color="red" role="alert" title={T.failed}>
          {problem.message}
        </Alert>
      )}
      {!problem && !person && <Text>{T.notFound}</Text>}
      {person && (
        <>
          <Title order={2}>{person.displayName || person.username}</Title>
          <Card withBorder>
            <Stack gap={4}>
              <Group>
                <Text fw={600}>{T.username}</Text>
                <Text>{person.username}</Text>
              </Group>
              <Group>
                <Text fw={600}>{T.email}</Text>
                <Text>{person.email}</Text>
              </Group>
              <Group>
                <Text fw={600}>{T.state}</Text>
                <StateBadge kind="user" state={person.state} />
              </Group>
              <Group>
                <Text fw={600}>{T.lastLogin}</Text>
                <Text>{person.lastLoginAt ? formatDateTime(person.lastLoginAt) : T.never}</Text>
              </Group>
              <Group>
                <Text fw={600}>{T.since}</Text>
                <Text>{formatDateTime(person.createdAt)}</Text>
              </Group>
            </Stack>
          </Card>
          <Title order={3}>{T.cards}</Title>
          {nodesOf(person.cards).length === 0 ? (
            <Text c="dimmed">{T.noCards}</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{T.serial}</Table.Th>
                  <Table.Th>{T.state}</Table.Th>
                  <Table.Th>{T.created}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {nodesOf(person.cards).map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>{c.serial}</Table.Td>
                    <Table.Td>
                      <StateBadge kind="card" state={c.state} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(c.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Title order={3}>{T.orders}</Title>
          {nodesOf(person.orders).length === 0 ? (
            <Text c="dimmed">{T.noOrders}</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{T.order}</Table.Th>
                  <Table.Th>{T.process}</Table.Th>
                  <Table.Th>{T.state}</Table.Th>
                  <Table.Th>{T.created}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {nodesOf(person.orders).map((o) => (
                  <Table.Tr key={o.id}>
                    <Table.Td>{o.id}</Table.Td>
                    <Table.Td>{o.process}</Table.Td>
                    <Table.Td>
                      <StateBadge kind="order" state={o.state} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(o.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}
    </Stack>
  );
}
