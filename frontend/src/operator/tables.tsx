import { Anchor, Group, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

import { formatDate, formatDateTime } from '../lib/format';
import { StateBadge } from '../lib/StateBadge';
import { processName } from './words';

// The tables the operator's person, card and order pages share: one component each, so a
// card, a certificate or an order reads the same wherever an operator meets it.

/** Fact is one labelled line of a details card: "State  Active". */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group>
      <Text fw={600}>{label}</Text>
      {children}
    </Group>
  );
}

interface CertificateRow {
  id: string;
  serial: string;
  template: string;
  state: string;
  notAfter: string;
}

/** CertificateTable lists certificates: serial, purpose, state, expiry. */
export function CertificateTable({ certificates }: { certificates: CertificateRow[] }) {
  const { t } = useTranslation('operator');
  return (
    <Table>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t('card.certSerial')}</Table.Th>
          <Table.Th>{t('card.purpose')}</Table.Th>
          <Table.Th>{t('card.state')}</Table.Th>
          <Table.Th>{t('card.expires')}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {certificates.map((x) => (
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
  );
}

interface Row {
  id: string;
  state: string;
  createdAt: string;
}

/** RecordTable is the frame of the card and order tables: a link, state, created, and actions if any. */
function RecordTable<T extends Row>({ rows, first, kind, link, actions }: {
  rows: T[];
  first: string;
  kind: 'card' | 'order';
  link: (r: T) => { to: string; text: string };
  actions?: (r: T) => ReactNode;
}) {
  const { t } = useTranslation('operator');
  return (
    <Table>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{first}</Table.Th>
          <Table.Th>{t('person.state')}</Table.Th>
          <Table.Th>{t('person.created')}</Table.Th>
          {actions && <Table.Th>{t('person.actions')}</Table.Th>}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((r) => {
          const l = link(r);
          return (
            <Table.Tr key={r.id}>
              <Table.Td>
                <Anchor component={Link} to={l.to}>
                  {l.text}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <StateBadge kind={kind} state={r.state} />
              </Table.Td>
              <Table.Td>{formatDateTime(r.createdAt)}</Table.Td>
              {actions && <Table.Td>{actions(r)}</Table.Td>}
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}

interface CardRow extends Row {
  serial: string;
}

/** CardTable lists cards, each linked to its card page, with the actions offered for each. */
export function CardTable<T extends CardRow>({ cards, actions }: { cards: T[]; actions?: (c: T) => ReactNode }) {
  const { t } = useTranslation('operator');
  return (
    <RecordTable rows={cards} first={t('person.serial')} kind="card" link={(c) => ({ to: `/operator/cards/${c.serial}`, text: c.serial })} actions={actions} />
  );
}

interface OrderRow extends Row {
  process: string;
}

/** OrderTable lists orders, each linked to its order page, with the actions offered for each. */
export function OrderTable<T extends OrderRow>({ orders, actions }: { orders: T[]; actions?: (o: T) => ReactNode }) {
  const { t } = useTranslation('operator');
  return (
    <RecordTable rows={orders} first={t('person.process')} kind="order" link={(o) => ({ to: `/operator/orders/${o.id}`, text: processName(o.process) })} actions={actions} />
  );
}
