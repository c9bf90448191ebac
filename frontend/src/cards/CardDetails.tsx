import { Button, Card, Group, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';

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
  const p = card.properties;
  const rows: [string, string | null | undefined][] = [
    ['Valid', `${formatDate(card.validFrom)} – ${formatDate(card.validUntil)}`],
    ['Profile name', p.profileName],
    ['User id', p.userId],
    ['Common name', p.commonName],
    ['E-mail', p.email],
    ['Organization', p.organization],
    [i18n.t('tpm:keyProtection.label'), i18n.t(`tpm:keyProtection.${card.keyProtection}`)],
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
  const certs = certificatesOf(card);
  if (certs.length === 0) return <Text c="dimmed">No certificates.</Text>;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped aria-label={`Certificates of card ${card.serial}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Template</Table.Th>
            <Table.Th>Subject</Table.Th>
            <Table.Th>Valid</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Serial</Table.Th>
            <Table.Th>
              <VisuallyHidden>Download</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {certs.map((c) => (
            <Table.Tr key={c.id} data-testid="certificate-row">
              <Table.Td>
                {humanize(c.template)}
                <Text size="xs" c="dimmed">
                  {i18n.t(`wizard:intro.algorithm.${c.keyAlgorithm}`, { defaultValue: c.keyAlgorithm })}
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
                  aria-label={`Download the ${humanize(c.template).toLowerCase()} certificate as PEM`}
                  onClick={() => downloadPem(pemFileName(card.serial, c), c.pem)}
                >
                  PEM
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** CardDetails shows one card: state, validity, properties and its certificates. */
export function CardDetails({ card, headingLevel = 2 }: { card: CardDetailsFragment; headingLevel?: 2 | 3 }) {
  const revoked = card.state === 'INACTIVE' || card.state === 'REVOKED' ? revocationSummary(certificatesOf(card), formatDate) : null;
  return (
    <Card withBorder padding="lg" component="article" aria-label={`Card ${card.serial}`} data-testid="card">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Title order={headingLevel} size="h3">
            Virtual smart card <Text span ff="monospace" inherit>{card.serial}</Text>
          </Title>
          <StateBadge kind="card" state={card.state} label="Card state" />
        </Group>
        {card.state === 'LOCKED' && (
          <Text size="sm" data-testid="card-locked">
            This card is locked: its certificates are on hold, so it cannot be used to sign in or sign until it is
            unlocked.
          </Text>
        )}
        {revoked && (
          <Text size="sm" data-testid="card-revoked">
            {revoked}
          </Text>
        )}
        {card.replacedBy && (
          <Text size="sm" data-testid="card-replaced-by">
            Replaced by card{' '}
            <Text span ff="monospace" inherit>
              {card.replacedBy.serial}
            </Text>
            .
          </Text>
        )}
        <Properties card={card} />
        <Title order={headingLevel === 2 ? 3 : 4} size="h5">
          Certificates
        </Title>
        <Certificates card={card} />
      </Stack>
    </Card>
  );
}
