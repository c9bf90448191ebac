import { Alert, Anchor, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';

// Words on this page, kept together for the message catalogue.
const T = {
  title: 'People',
  intro: 'Find a person by the start of their username, e-mail address or name.',
  search: 'Search',
  placeholder: 'e.g. bob, bob@example.com or Bob',
  failed: 'The search failed',
  none: 'Nobody matches.',
  username: 'Username',
  name: 'Name',
  email: 'E-mail',
  state: 'State',
  lastLogin: 'Last sign-in',
  never: 'never',
};

const PeopleDoc = graphql(`
  query OperatorPeople($query: String!, $after: Cursor) {
    people(query: $query, first: 50, after: $after) {
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
          lastLoginAt
        }
      }
    }
  }
`);

/** PeoplePage is the operator console's search for people. */
export default function PeoplePage() {
  const [query, setQuery] = useState('');
  const [debounced] = useDebouncedValue(query.trim(), 250);
  const pager = useConnectionPager(debounced);
  const [{ data, fetching, error }] = useQuery({
    query: PeopleDoc,
    variables: { query: debounced, after: pager.after },
    requestPolicy: 'cache-and-network',
  });
  const people = nodesOf(data?.people);
  const problem = error ? apiError(error) : undefined;
  return (
    <Stack>
      <Title order={2}>{T.title}</Title>
      <Text c="dimmed">{T.intro}</Text>
      <TextInput
        label={T.search}
        placeholder={T.placeholder}
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        maxLength={200}
      />
      {problem && (
        <Alert color="red" title={T.failed}>
          {problem.message}
        </Alert>
      )}
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{T.username}</Table.Th>
            <Table.Th>{T.name}</Table.Th>
            <Table.Th>{T.email}</Table.Th>
            <Table.Th>{T.state}</Table.Th>
            <Table.Th>{T.lastLogin}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {people.map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td>
                <Anchor component={Link} to={`/operator/people/${p.id}`}>
                  {p.username}
                </Anchor>
              </Table.Td>
              <Table.Td>{p.displayName}</Table.Td>
              <Table.Td>{p.email}</Table.Td>
              <Table.Td>
                <StateBadge kind="user" state={p.state} />
              </Table.Td>
              <Table.Td>{p.lastLoginAt ? formatDateTime(p.lastLoginAt) : T.never}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!fetching && data && people.length === 0 && <Text c="dimmed">{T.none}</Text>}
      <ConnectionPager pager={pager} connection={data?.people} />
    </Stack>
  );
}
