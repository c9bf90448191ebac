import { Alert, Anchor, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';

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
  const { t } = useTranslation('operator');
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
      <Title order={1}>{t('people.title')}</Title>
      <Text c="dimmed">{t('people.intro')}</Text>
      <TextInput
        label={t('people.search')}
        placeholder={t('people.placeholder')}
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        maxLength={200}
      />
      {problem && (
        <Alert color="red" title={t('people.failed')}>
          {problem.message}
        </Alert>
      )}
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('people.username')}</Table.Th>
            <Table.Th>{t('people.name')}</Table.Th>
            <Table.Th>{t('people.email')}</Table.Th>
            <Table.Th>{t('people.state')}</Table.Th>
            <Table.Th>{t('people.lastLogin')}</Table.Th>
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
              <Table.Td>{p.lastLoginAt ? formatDateTime(p.lastLoginAt) : t('people.never')}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!fetching && data && people.length === 0 && <Text c="dimmed">{t('people.none')}</Text>}
      <ConnectionPager pager={pager} connection={data?.people} />
    </Stack>
  );
}
