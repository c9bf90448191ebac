import { Alert, Button, Group, Table, Text } from '@mantine/core';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { AuditEventsDoc } from '../audit/fragments';
import { auditSentence } from '../audit/sentences';
import type { AuditEventWhereInput } from '../gql/graphql';
import { nodesOf, useConnectionPager } from '../lib/connection';
import { ConnectionPager } from '../lib/ConnectionPager';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';

interface Props {
  where: AuditEventWhereInput;
  /** exportPerson, a person's id, offers the streamed export of their events (CSV, JSON Lines). */
  exportPerson?: string;
  /** label names the table for screen readers. */
  label: string;
  /** refresh, when it changes, reads the trail again: after an action on the page. */
  refresh?: number;
}

/** AuditTrail is a paged list of audit events in people's words, newest first. */
export function AuditTrail({ where, exportPerson, label, refresh = 0 }: Props) {
  const { t } = useTranslation('operator');
  const pager = useConnectionPager(where);
  const [{ data, error }, reread] = useQuery({
    query: AuditEventsDoc,
    variables: { where, after: pager.after, first: 20 },
    requestPolicy: 'cache-and-network',
  });
  useEffect(() => {
    if (refresh > 0) reread({ requestPolicy: 'network-only' });
  }, [refresh, reread]);
  const problem = apiError(error);
  const events = nodesOf(data?.auditEvents);
  return (
    <>
      {exportPerson && (
        <Group gap="xs">
          {(['csv', 'jsonl'] as const).map((f) => (
            <Button key={f} component="a" href={`/audit/export?format=${f}&person=${encodeURIComponent(exportPerson)}`} download variant="light" size="xs">
              {t(`audit.export.${f}`)}
            </Button>
          ))}
        </Group>
      )}
      {problem && (
        <Alert color="red" role="alert" title={t('audit.failed')}>
          {problem.message}
        </Alert>
      )}
      {data && events.length === 0 ? (
        <Text c="dimmed">{t('audit.none')}</Text>
      ) : (
        <Table aria-label={label}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('audit.when')}</Table.Th>
              <Table.Th>{t('audit.what')}</Table.Th>
              <Table.Th>{t('audit.from')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.at)}</Table.Td>
                <Table.Td>{auditSentence({ ...e, details: (e.details ?? null) as Record<string, unknown> | null })}</Table.Td>
                <Table.Td>{e.remoteAddr}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {(events.length > 0 || pager.hasPrevious) && <ConnectionPager pager={pager} connection={data?.auditEvents} />}
    </>
  );
}
