import { Button, Card, Group, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';

import { useTranslation } from 'react-i18next';

import { graphql } from '../gql';
import i18n from '../i18n';
import type { CardDetailsFragment } from '../gql/graphql';
import { nodesOf } from '../lib/connection';
import { formatDate, formatDateTime, humanize } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { downloadPem, pemFileName } from './pem';
import { reasonInWords, revocationSummary } from './revocation';

// What the portal shows of a card: on the Cards page and when the wizard's card is ready.
// People read what a certificate is for and its key in words: the PIV slot, the reader's
// name ("Virtual PCD 00 00") and the option script's server name are for operators.
export const CardDetailsFragmentDoc = graphql(`
  fragment CardDetails on Card {
    id
    serial
    kind
    state
    createdAt
    validFrom
    validUntil
    properties {
      ...CardProperties
    }
    device {
      reader
      host
    }
    replacedBy {
      serial
    }
    keyProtection
    pinState {
      triesLeft
      blocked
      pukBlocked
      reportedAt
    }
    certificates(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) {
      edges {
        node {
          id
          serial
          slot
          template
          keyAlgorithm
          subject
          notBefore
          notAfter
          state
          revokedAt
          revocationReason
          pem
        }
      }
    }
  }
`);

type Certificate = NonNullable<NonNullable<NonNullable<CardDetailsFragment['certificates']['edges']>[number]>['node']>;

/**
 * certificatesOf lists a card's certificates by slot (9A, 9C, 9D), newest first within a
 * slot: the certificates of one issue are created in one statement with one timestamp, so
 * the server's creation order alone does not say which slot comes first. (sort is stable.)
 * Newest first, read newest first: after renewals a card has more certificates than the
 * page reads, and the ones in use must be among them; the superseded follow.
 */
function certificatesOf(card: CardDetailsFragment): Certificate[] {
  return [...nodesOf(card.certificates)].sort((a, b) => a.slot.localeCompare(b.slot));
}

function Properties({ card }: { card: CardDetailsFragment }) {
  const { t } = useTranslation('cards');
  const p = card.properties;
  const rows: [string, string | null | undefined][] = [
    [t('details.property.valid'), `${formatDate(card.validFrom)} – ${formatDate(card.validUntil)}`],
    [t('details.property.profileName'), p.profileName],
    [t('details.property.userId'), p.userId],
    [t('details.property.commonName'), p.commonName],
    [t('details.property.email'), p.email],
    [t('details.property.organization'), p.organization],
    [t('tpm:keyProtection.label'), t(`tpm:keyProtection.${card.keyProtection}`)],
  ];
  return (
    <Table variant="vertical" layout="fixed" withTableBorder>
      <Table.Tbody>
        {rows
          .filter(([, v]) => v)
          .map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={160}>{k}</Table.Th>
              <Table.Td style={{ overflowWrap: 'anywhere' }}>{v}</Table.Td>
            </Table.Tr>
          ))}
      </Table.Tbody>
    </Table>
  );
}

function Certificates({ card }: { card: CardDetailsFragment }) {
  const { t } = useTranslation('cards');
  const certs = certificatesOf(card);
  if (certs.length === 0) return <Text c="dimmed">{t('details.noCertificates')}</Text>;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped aria-label={t('details.certificatesOf', { serial: card.serial })}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('details.column.template')}</Table.Th>
            <Table.Th>{t('details.column.subject')}</Table.Th>
            <Table.Th>{t('details.column.valid')}</Table.Th>
            <Table.Th>{t('details.column.state')}</Table.Th>
            <Table.Th>{t('details.column.serial')}</Table.Th>
            <Table.Th>
              <VisuallyHidden>{t('details.column.download')}</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {certs.map((c) => {
            const template = templateName(c.template);
            return (
              <Table.Tr key={c.id} data-testid="certificate-row">
                <Table.Td>
                  {template}
                  <Text size="xs" c="dimmed">
                    {t(`wizard:intro.algorithm.${c.keyAlgorithm}`, { defaultValue: c.keyAlgorithm })}
                  </Text>
                </Table.Td>
                <Table.Td style={{ overflowWrap: 'anywhere' }}>{c.subject}</Table.Td>
                <Table.Td>
                  <Text size="sm">{formatDate(c.notBefore)}</Text>
                  <Text size="sm">– {formatDate(c.notAfter)}</Text>
                </Table.Td>
                <Table.Td>
                  <StateBadge kind="certificate" state={c.state} />
                  {c.revokedAt && (
                    <Text size="xs" c="dimmed">
                      {formatDateTime(c.revokedAt)}
                      {reasonInWords(c.revocationReason) && ` — ${reasonInWords(c.revocationReason)}`}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                    {c.serial}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    variant="light"
                    aria-label={t('details.pem', { template, templateLower: template.toLowerCase() })}
                    onClick={() => downloadPem(pemFileName(card.serial, c), c.pem)}
                  >
                    PEM
                  </Button>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/**
 * templateName is a certificate template's name in the current language (the wizard's
 * words for the known ones), humanized for one the portal does not know yet.
 */
function templateName(template: string): string {
  return i18n.t(`wizard:intro.template.${template}`, { defaultValue: humanize(template) });
}

/** CardDetails shows one card: state, validity, properties and its certificates. */
export function CardDetails({ card, headingLevel = 2 }: { card: CardDetailsFragment; headingLevel?: 2 | 3 }) {
  const { t } = useTranslation('cards');
  const revoked = card.state === 'INACTIVE' || card.state === 'REVOKED' ? revocationSummary(certificatesOf(card), formatDate) : null;
  return (
    <Card withBorder padding="lg" component="article" aria-label={t('details.label', { serial: card.serial })} data-testid="card">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Title order={headingLevel} size="h3">
            {t('details.heading')} <Text span ff="monospace" inherit>{card.serial}</Text>
          </Title>
          <StateBadge kind="card" state={card.state} label={t('details.state')} />
        </Group>
        {card.state === 'LOCKED' && (
          <Text size="sm" data-testid="card-locked">
            {t('details.locked')}
          </Text>
        )}
        {revoked && (
          <Text size="sm" data-testid="card-revoked">
            {revoked}
          </Text>
        )}
        {card.replacedBy && (
          <Text size="sm" data-testid="card-replaced-by">
            {t('details.replacedBy')}{' '}
            <Text span ff="monospace" inherit>
              {card.replacedBy.serial}
            </Text>
            .
          </Text>
        )}
        <Properties card={card} />
        <Title order={headingLevel === 2 ? 3 : 4} size="h5">
          {t('details.certificates')}
        </Title>
        <Certificates card={card} />
      </Stack>
    </Card>
  );
}
