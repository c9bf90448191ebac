import { Alert, Code, Group, Spoiler, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState, type ChangeEvent } from 'react';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import type { AuditEventWhereInput } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';

const AuditEventsDoc = graphql(`
  query AdminAuditEvents($after: Cursor, $where: AuditEventWhereInput) {
    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          at
          actor
          actorKind
          action
          objectType
          objectID
          remoteAddr
          details
        }
      }
    }
  }
`);

export interface AuditFilter {
  action: string;
  objectType: string;
  objectID: string;
}

/** auditWhere turns the filter form into a where input: case-insensitive, partial matches. */
export function auditWhere(f: AuditFilter): AuditEventWhereInput | undefined {
  const where: AuditEventWhereInput = {};
  if (f.action.trim()) where.actionContainsFold = f.action.trim();
  if (f.objectType.trim()) where.objectTypeEqualFold = f.objectType.trim();
  if (f.objectID.trim()) where.objectIDContainsFold = f.objectID.trim();
  return Object.keys(where).length > 0 ? where : undefined;
}

export default function AuditLogPage() {
  const [filter, setFilter] = useState<AuditFilter>({ action: '', objectType: '', objectID: '' });
  const [debounced] = useDebouncedValue(filter, 300);
  const where = auditWhere(debounced);
  const pager = useConnectionPager(where);
  const [{ data, fetching, error }] = useQuery({
    query: AuditEventsDoc,
    variables: { after: pager.after, where },
    requestPolicy: 'cache-and-network',
  });
  const events = nodesOf(data?.auditEvents);
  const problem = apiError(error);
  const field = (key: keyof AuditFilter) => ({
    value: filter[key],
    onChange: (e: ChangeEvent<HTMLInputElement>) => {
      const value = e.currentTarget.value;
      setFilter((f) => ({ ...f, [key]: value }));
    },
  });

  return (
    <Stack>
      <Title order={1}>Audit log</Title>
      <Group align="flex-end" component="form" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <TextInput label="Action" placeholder="e.g. order.cancel" {...field('action')} />
        <TextInput label="Object type" placeholder="e.g. Order" {...field('objectType')} />
        <TextInput label="Object id" placeholder="e.g. ord_…" {...field('objectID')} />
      </Group>
      {problem && (
        <Alert color="red" role="alert">
          {problem.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={900}>
        <Table striped aria-busy={fetching} aria-label="Audit events">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Object</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Details</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((ev) => (
              <Table.Tr key={ev.id} data-testid="audit-row">
                <Table.Td>{formatDateTime(ev.at)}</Table.Td>
                <Table.Td>
                  <Text size="sm">{ev.actor}</Text>
                  <Text size="xs" c="dimmed">
                    {ev.actorKind}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Code>{ev.action}</Code>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{ev.objectType}</Text>
                  <Text size="xs" ff="monospace" c="dimmed">
                    {ev.objectID}
                  </Text>
                </Table.Td>
                <Table.Td>{ev.remoteAddr}</Table.Td>
                <Table.Td maw={320}>
                  {ev.details && Object.keys(ev.details).length > 0 ? (
                    <Spoiler maxHeight={48} showLabel="More" hideLabel="Less">
                      <Code block>{JSON.stringify(ev.details, null, 2)}</Code>
                    </Spoiler>
                  ) : (
                    '—'
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
            {!fetching && events.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={6}>No events match.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ConnectionPager pager={pager} connection={data?.auditEvents} />
    </Stack>
  );
}
