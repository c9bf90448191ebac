import { Alert, Anchor, Button, Code, Group, MultiSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { AuditEventsDoc } from '../audit/fragments';
import { AUDIT_ACTIONS, actionLabel, auditSentence } from '../audit/sentences';
import { graphql } from '../gql';
import type { AuditEventWhereInput } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';

const PersonDoc = graphql(`
  query AuditPerson($username: String!) {
    users(first: 1, where: { usernameEqualFold: $username }) {
      edges {
        node {
          id
          username
          displayName
        }
      }
    }
  }
`);

/** A person the log is filtered by: found by username, or picked from a row. */
interface Person {
  id: string;
  name: string;
}

export interface AuditFilter {
  person?: Person;
  actions: string[];
  /** datetime-local values (the browser's time zone), "" for none. */
  from: string;
  to: string;
}

function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** auditWhere turns the filter into a where input: by person (what they did, or what was done about them), actions and time. */
export function auditWhere(f: AuditFilter): AuditEventWhereInput | undefined {
  const and: AuditEventWhereInput[] = [];
  if (f.person) {
    and.push({ or: [{ actorID: f.person.id }, { subjectID: f.person.id }] });
  }
  if (f.actions.length > 0) and.push({ actionIn: f.actions });
  const from = isoOf(f.from);
  const to = isoOf(f.to);
  if (from) and.push({ atGTE: from });
  if (to) and.push({ atLT: to });
  return and.length > 0 ? { and } : undefined;
}

/** exportURL is the streamed export of what the filter selects. */
export function exportURL(f: AuditFilter, format: 'csv' | 'jsonl'): string {
  const q = new URLSearchParams({ format });
  if (f.person) q.set('person', f.person.id);
  if (f.actions.length > 0) q.set('action', f.actions.join(','));
  const from = isoOf(f.from);
  const to = isoOf(f.to);
  if (from) q.set('from', from.replace(/\.\d{3}Z$/, 'Z'));
  if (to) q.set('to', to.replace(/\.\d{3}Z$/, 'Z'));
  return `/audit/export?${q.toString()}`;
}

export default function AuditLogPage() {
  // The audit namespace is loaded on demand: the page waits (Suspense) until it is there.
  const { t, i18n } = useTranslation('audit');
  const actionOptions = useMemo(
    () =>
      AUDIT_ACTIONS.map((value) => ({ value, label: actionLabel(value, t) })).sort((a, b) =>
        a.label.localeCompare(b.label, i18n.language),
      ),
    [t, i18n.language],
  );
  const [filter, setFilter] = useState<AuditFilter>({ actions: [], from: '', to: '' });
  const [username, setUsername] = useState('');
  const [debouncedName] = useDebouncedValue(username.trim(), 300);
  const [{ data: personData, fetching: findingPerson }] = useQuery({
    query: PersonDoc,
    variables: { username: debouncedName },
    pause: debouncedName === '',
  });
  const found = nodesOf(personData?.users)[0];
  // A typed username selects that person once found; a person picked from a row wins until the field changes.
  const person: Person | undefined =
    filter.person ?? (debouncedName && found ? { id: found.id, name: found.displayName || found.username } : undefined);
  const effective: AuditFilter = { ...filter, person };
  const [debounced] = useDebouncedValue(effective, 300);
  const where = auditWhere(debounced);
  const pager = useConnectionPager(where);
  const [{ data, fetching, error }] = useQuery({
    query: AuditEventsDoc,
    variables: { after: pager.after, where, first: 50 },
    requestPolicy: 'cache-and-network',
  });
  const events = nodesOf(data?.auditEvents);
  const problem = apiError(error);
  const unknownPerson = debouncedName !== '' && !filter.person && !findingPerson && personData && !found;
  const pick = (p: Person) => {
    setUsername('');
    setFilter((f) => ({ ...f, person: p }));
  };

  return (
    <Stack>
      <Title order={1}>{t('page.title')}</Title>
      <Group align="flex-end" component="form" role="search" aria-label={t('page.filter')} onSubmit={(e) => e.preventDefault()}>
        <TextInput
          label={t('page.person')}
          description={filter.person ? t('page.personShowing', { name: filter.person.name }) : t('page.personHint')}
          placeholder={t('page.personPlaceholder')}
          value={username}
          error={unknownPerson ? t('page.personUnknown') : undefined}
          onChange={(e) => {
            const value = e.currentTarget.value;
            setUsername(value);
            setFilter((f) => ({ ...f, person: undefined }));
          }}
        />
        <MultiSelect
          label={t('page.what')}
          placeholder={filter.actions.length ? undefined : t('page.everything')}
          data={actionOptions}
          value={filter.actions}
          onChange={(actions) => setFilter((f) => ({ ...f, actions }))}
          searchable
          clearable
          maw={360}
        />
        <TextInput
          type="datetime-local"
          label={t('page.from')}
          value={filter.from}
          onChange={(e) => {
            const from = e.currentTarget.value;
            setFilter((f) => ({ ...f, from }));
          }}
        />
        <TextInput
          type="datetime-local"
          label={t('page.until')}
          value={filter.to}
          onChange={(e) => {
            const to = e.currentTarget.value;
            setFilter((f) => ({ ...f, to }));
          }}
        />
        {(filter.person || filter.actions.length > 0 || filter.from || filter.to) && (
          <Button
            variant="subtle"
            onClick={() => {
              setUsername('');
              setFilter({ actions: [], from: '', to: '' });
            }}
          >
            {t('page.showEverything')}
          </Button>
        )}
      </Group>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          {t('page.download', { count: data?.auditEvents.totalCount ?? 0 })}
        </Text>
        <Button component="a" href={exportURL(effective, 'csv')} download variant="light" size="xs">
          {t('page.csv')}
        </Button>
        <Button component="a" href={exportURL(effective, 'jsonl')} download variant="light" size="xs">
          {t('page.jsonl')}
        </Button>
      </Group>
      {problem && (
        <Alert color="red" role="alert">
          {problem.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={720}>
        <Table striped aria-busy={fetching} aria-label={t('page.table')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('page.when')}</Table.Th>
              <Table.Th>{t('page.what')}</Table.Th>
              <Table.Th>{t('page.details')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((ev) => (
              <Table.Tr key={ev.id} data-testid="audit-row">
                <Table.Td style={{ whiteSpace: 'nowrap', verticalAlign: 'top' }}>{formatDateTime(ev.at)}</Table.Td>
                <Table.Td style={{ verticalAlign: 'top' }}>
                  <Text size="sm" data-testid="audit-sentence">
                    {auditSentence({ ...ev, details: ev.details as Record<string, unknown> | null }, t)}
                  </Text>
                  <Group gap="xs">
                    {ev.actorID && (
                      <Anchor component="button" type="button" size="xs" onClick={() => pick({ id: ev.actorID, name: ev.actorName })}>
                        {t('page.eventsOf', { name: ev.actorName })}
                      </Anchor>
                    )}
                    {ev.subjectID && ev.subjectName && ev.subjectID !== ev.actorID && (
                      <Anchor
                        component="button"
                        type="button"
                        size="xs"
                        onClick={() => pick({ id: ev.subjectID as string, name: ev.subjectName as string })}
                      >
                        {t('page.eventsOf', { name: ev.subjectName })}
                      </Anchor>
                    )}
                    {ev.objectType === 'Order' && (
                      <Anchor component={Link} to={`/orders/${ev.objectID}`} size="xs">
                        {t('page.theOrder')}
                      </Anchor>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td style={{ verticalAlign: 'top' }}>
                  <details>
                    <summary>
                      <Text span size="xs">
                        {t('page.showDetails')}
                      </Text>
                    </summary>
                    <Text size="xs">{ev.remoteAddr ? t('page.fromAddress', { address: ev.remoteAddr }) : t('page.noAddress')}</Text>
                    <Text size="xs">{t('page.object', { type: ev.objectType, id: ev.objectID })}</Text>
                    {ev.details && Object.keys(ev.details).length > 0 && <Code block>{JSON.stringify(ev.details, null, 2)}</Code>}
                  </details>
                </Table.Td>
              </Table.Tr>
            ))}
            {!fetching && events.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={3}>{t('page.noEvents')}</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ConnectionPager pager={pager} connection={data?.auditEvents} />
    </Stack>
  );
}
