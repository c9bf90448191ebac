import { Alert, Anchor, Button, Card, Group, Loader, Stack, Text, Timeline, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { EvaluatedOptions } from '../admin/EvaluatedOptions';
import { actorWords, auditSentence } from '../audit/sentences';
import { graphql } from '../gql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { failureWords } from '../wizard/orderState';
import { OpCancelOrderDoc } from './operations';
import { ReasonDialog } from './ReasonDialog';
import { CertificateTable, Fact } from './tables';
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
          ...AuditEventFields
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
              <Fact label={t('order.state')}>
                <StateBadge kind="order" state={o.state} />
              </Fact>
              <Fact label={t('order.person')}>
                <Anchor component={Link} to={`/operator/people/${o.user.id}`}>
                  {person}
                </Anchor>
              </Fact>
              {cardSerial && (
                <Fact label={t('order.card')}>
                  <Anchor component={Link} to={`/operator/cards/${cardSerial}`}>
                    {cardSerial}
                  </Anchor>
                </Fact>
              )}
              <Fact label={t('order.verificationCode')}>
                <Text ff="monospace" data-testid="verification-code">
                  {o.verificationCode || t('order.none')}
                </Text>
              </Fact>
              <Fact label={t('order.scriptVersion')}>
                <Text>{o.optionScriptVersion || t('order.none')}</Text>
              </Fact>
              <Fact label={t('order.started')}>
                <Text>{formatDateTime(o.createdAt)}</Text>
              </Fact>
              {o.finishedAt && (
                <Fact label={t('order.finished')}>
                  <Text>{formatDateTime(o.finishedAt)}</Text>
                </Fact>
              )}
              {o.failureReason && (
                <Fact label={t('order.failureReason')}>
                  <Text>{failureWords(o.failureReason)}</Text>
                </Fact>
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
            <CertificateTable certificates={nodesOf(o.certificates)} />
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
