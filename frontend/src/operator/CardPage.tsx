import { Alert, Anchor, Card, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import type { AuditEventWhereInput } from '../gql/graphql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { formatDate, formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { AuditTrail } from './AuditTrail';
import { CardActions } from './CardActions';
import { CertificateTable, Fact, OrderTable } from './tables';

const CardDoc = graphql(`
  query OperatorCard($serial: String!) {
    card(serial: $serial) {
      id
      serial
      state
      validFrom
      validUntil
      keyProtection
      device {
        reader
        host
        bridgeVersion
        firmware
      }
      pinState {
        triesLeft
        blocked
        pukBlocked
        reportedAt
      }
      owner {
        id
        username
        displayName
      }
      order {
        id
        process
        state
        createdAt
      }
      subjectOrders {
        id
        process
        state
        createdAt
      }
      certificates(first: 50) {
        edges {
          node {
            id
            serial
            slot
            template
            keyAlgorithm
            state
            notAfter
            attestationVerified
          }
        }
      }
    }
  }
`);

/** CardPage shows an operator one card: owner, state and its history, key protection, certificates, orders, and the actions. */
export default function CardPage() {
  const { t } = useTranslation('operator');
  const { serial = '' } = useParams();
  const [{ data, fetching, error }, reload] = useQuery({ query: CardDoc, variables: { serial }, requestPolicy: 'cache-and-network' });
  const c = data?.card;
  const [version, setVersion] = useState(0);
  const problem = error ? apiError(error) : undefined;
  const cardId = c?.id ?? '';
  const history = useMemo<AuditEventWhereInput>(() => ({ objectType: 'Card', objectID: cardId }), [cardId]);
  if (fetching && !data) return <Loader aria-label={t('loading')} />;
  const owner = c ? c.owner.displayName || c.owner.username : '';
  const certs = nodesOf(c?.certificates);
  const orders = c ? [...(c.order ? [c.order] : []), ...(c.subjectOrders ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt)) : [];
  const attested = certs.some((x) => x.attestationVerified);
  return (
    <Stack>
      {problem && (
        <Alert color="red" role="alert" title={t('card.failed')}>
          {problem.message}
        </Alert>
      )}
      {!problem && !c && <Text>{t('card.notFound')}</Text>}
      {c && (
        <>
          <Anchor component={Link} to={`/operator/people/${c.owner.id}`}>
            {t('card.backTo', { owner })}
          </Anchor>
          <Group justify="space-between">
            <Title order={1}>{t('card.title', { serial: c.serial })}</Title>
            <CardActions
              card={c}
              owner={owner}
              onDone={() => {
                reload({ requestPolicy: 'network-only' });
                setVersion((v) => v + 1);
              }}
            />
          </Group>
          <Card withBorder>
            <Stack gap={4}>
              <Fact label={t('card.owner')}>
                <Anchor component={Link} to={`/operator/people/${c.owner.id}`}>
                  {owner}
                </Anchor>
              </Fact>
              <Fact label={t('card.state')}>
                <StateBadge kind="card" state={c.state} />
              </Fact>
              <Fact label={t('card.valid')}>
                <Text>{t('card.validRange', { from: formatDate(c.validFrom), until: formatDate(c.validUntil) })}</Text>
              </Fact>
              {c.device && (
                <Fact label={t('card.computer')}>
                  <Text>{c.device.host || t('card.unknownHost')}</Text>
                </Fact>
              )}
              <Fact label={t('card.keyProtection')}>
                <Text>{attested ? t('card.attested') : t('card.notAttested')}</Text>
              </Fact>
              <Fact label={t('tpm:keyProtection.label')}>
                <Text>{t(`tpm:keyProtection.${c.keyProtection}`)}</Text>
              </Fact>
              {c.pinState && (
                <Fact label={t('card.pin')}>
                  <Text>
                    {c.pinState.pukBlocked
                      ? t('card.pinPukBlocked')
                      : c.pinState.blocked
                        ? t('card.pinBlocked')
                        : t('card.pinTries', { count: c.pinState.triesLeft })}{' '}
                    ({t('card.reportedAt', { time: formatDateTime(c.pinState.reportedAt) })})
                  </Text>
                </Fact>
              )}
            </Stack>
          </Card>

          <Title order={2}>{t('card.stateHistory')}</Title>
          {cardId && <AuditTrail where={history} label={t('card.stateHistory')} refresh={version} />}

          <Title order={2}>{t('card.certificates')}</Title>
          <CertificateTable certificates={certs} />

          <Title order={2}>{t('card.orders')}</Title>
          <OrderTable orders={orders} />
        </>
      )}
    </Stack>
  );
}
