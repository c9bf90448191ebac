import { Alert, Anchor, Button, Card, Group, Loader, Stack, Table, Text, Timeline, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { EvaluatedOptions } from '../admin/EvaluatedOptions';
import { actorWords, auditSentence } from '../audit/sentences';
import { graphql } from '../gql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { formatDate, formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { OpCancelOrderDoc } from './operations';
import { ReasonDialog } from './ReasonDialog';
import { processName } from './words';

const OrderDoc = graphql(`
  query OperatorOrder($id: ID!, $objectID: String!) {
    order(id: $id) {
      id
      process
      state
      createdAt
      finishedAt
      expiresAt
      verificationCode
      optionScriptVersion
      failureReason
      options {
        ...ScriptOptions
      }
      user {
        id
        username
        displayName
      }
      card {
        serial
      }
      subjectCard {
        serial
      }
      certificates(first: 20) {
        edges {
          node {
            id
            serial
            template
            state
            notAfter
          }
        }
      }
    }
    auditEvents(first: 100, where: { objectType: "Order", objectID: $objectID }, orderBy: { field: AT, direction: ASC }) {
      edges {
        node {
          id
          at
          actorName
          actorID
          actorKind
          action
          objectType
          objectID
          objectLabel
          subjectName
          remoteAddr
          details
        }
      }
    }
  }
`);

const FINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'EXPIRED']);

/** OrderPage shows an operator one order: its step timeline (who, when, from where), verification code, options and certificates. */
export default function OrderPage() {
  const { t } = useTranslation('operator');
  const { id = '' } = useParams();
  const [{ data, fetching, error }, reload] = useQuery({ query: OrderDoc, variables: { id, objectID: id }, requestPolicy: 'cache-and-network' });
  const [cancelling, setCancelling] = useState(false);
  const [, cancel] = useMutation(OpCancelOrderDoc);
  const o = data?.order;
  const problem = error ? apiError(error) : undefined;
  if (fetching && !data) return <Loader aria-label={t('loading')} />;
  const person = o ? o.user.displayName || o.user.username : '';
  const steps = nodesOf(data?.auditEvents);
  const cardSerial = o?.card?.serial ?? o?.subjectCard?.serial;
  return (
    <Stack>
      {problem && (
        <Alert color="red" role="alert" title={t('order.failed')}>
          {problem.message}
        </Alert>
      )}
      {!problem && !o && <Text>{t('order.notFound')}</Text>}
      {o && (
        <>
          <Anchor component={Link} to={`/operator/people/${o.user.id}`}>
            {t('card.backTo', { owner: person })}
          </Anchor>
          <Group justify="space-between">
            <Title order={1}>{t('order.title', { process: processName(o.process), name: person })}</Title>
            {!FINAL.has(o.state) && (
              <Button color="red" variant="light" onClick={() => setCancelling(true)}>
                {t('order.cancel.button')}
              </Button>
            )}
          </Group>
          <Card withBorder>
            <Stack gap={4}>
              <Group>
                <Text fw={600}>{t('order.state')}</Text>
                <StateBadge kind="order" state={o.state} />
              </Group>
              <Group>
                <Text fw={600}>{t('order.person')}</Text>
                <Anchor component={Link} to={`/operator/people/${o.user.id}`}>
                  {person}
                </Anchor>
              </Group>
              {cardSerial && (
                <Group>
                  <Text fw={600}>{t('order.card')}</Text>
                  <Anchor component={Link} to={`/operator/cards/${cardSerial}`}>
                    {cardSerial}
                  </Anchor>
                </Group>
              )}
              <Group>
                <Text fw={600}>{t('order.verificationCode')}</Text>
                <Text ff="monospace" data-testid="verification-code">
                  {o.verificationCode || t('order.none')}
                </Text>
              </Group>
              <Group>
                <Text fw={600}>{t('order.scriptVersion')}</Text>
                <Text>{o.optionScriptVersion || t('order.none')}</Text>
              </Group>
              <Group>
                <Text fw={600}>{t('order.started')}</Text>
                <Text>{formatDateTime(o.createdAt)}</Text>
              </Group>
              {o.finishedAt && (
                <Group>
                  <Text fw={600}>{t('order.finished')}</Text>
                  <Text>{formatDateTime(o.finishedAt)}</Text>
                </Group>
              )}
              {o.failureReason && (
                <Group>
                  <Text fw={600}>{t('order.failureReason')}</Text>
                  <Text>{o.failureReason}</Text>
                </Group>
              )}
            </Stack>
          </Card>

          <Title order={2}>{t('order.timeline')}</Title>
          <Timeline active={steps.length - 1} bulletSize={14} lineWidth={2} aria-label={t('order.timeline')}>
            {steps.map((e) => (
              <Timeline.Item key={e.id} title={auditSentence({ ...e, details: (e.details ?? null) as Record<string, unknown> | null })}>
                <Text size="sm" c="dimmed">
                  {t('order.stepBy', { who: actorWords(e), when: formatDateTime(e.at), from: e.remoteAddr || t('order.unknownAddress') })}
                </Text>
              </Timeline.Item>
            ))}
          </Timeline>

          <Title order={2}>{t('order.certificates')}</Title>
          {nodesOf(o.certificates).length === 0 ? (
            <Text c="dimmed">{t('order.noCertificates')}</Text>
          ) : (
            <Table>
              <Table.Tbody>
                {nodesOf(o.certificates).map((x) => (
                  <Table.Tr key={x.id}>
                    <Table.Td style={{ overflowWrap: 'anywhere' }}>{x.serial}</Table.Td>
                    <Table.Td>{t(`card.template.${x.template}`, { defaultValue: x.template })}</Table.Td>
                    <Table.Td>
                      <StateBadge kind="certificate" state={x.state} />
                    </Table.Td>
                    <Table.Td>{formatDate(x.notAfter)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}

          {o.options && <EvaluatedOptions options={o.options} userLabel={person} />}

          <ReasonDialog
            opened={cancelling}
            title={t('order.cancel.title')}
            consequence={t('order.cancel.consequence', { name: person })}
            confirmLabel={t('order.cancel.confirm')}
            danger
            onClose={() => setCancelling(false)}
            onConfirm={async (reason) => {
              const res = await cancel({ id: o.id, reason });
              if (!res.error) reload({ requestPolicy: 'network-only' });
              return res;
            }}
          />
        </>
      )}
    </Stack>
  );
}
