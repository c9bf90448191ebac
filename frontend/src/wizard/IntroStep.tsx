import { Checkbox, List, Stack, Table, Text, TextInput } from '@mantine/core';

import type { WizardOrderFragment } from '../gql/graphql';
import { humanize } from '../lib/format';
import type { Flow } from './flows';

const slotPurpose: Record<string, string> = {
  AUTHENTICATION: 'sign in to computers, VPNs and web sites',
  SIGNATURE: 'sign documents and e-mail',
  ENCRYPTION: 'decrypt e-mail and files',
};

function validityText(v: { years: number; days: number }): string {
  if (v.years > 0) return `${v.years} year${v.years === 1 ? '' : 's'}`;
  return `${v.days} day${v.days === 1 ? '' : 's'}`;
}

/**
 * IntroStep says what will happen: for a process on a card, which card and the flow's
 * steps; for a new card, also what it will hold, from the order's options.
 */
export function IntroStep({
  order,
  flow,
  choices = {},
  onChoice = () => {},
  challenge,
}: {
  order: WizardOrderFragment;
  flow: Flow;
  choices?: Record<string, boolean>;
  onChoice?: (name: string, value: boolean) => void;
  /** challenge is the challenge field of a flow that asks for one (Flow.challenge). */
  challenge?: ChallengeField;
}) {
  if (flow.introSteps.length > 0)
    return <CardIntro order={order} flow={flow} choices={choices} onChoice={onChoice} challenge={challenge} />;
  return <NewCardIntro order={order} />;
}

/** ChallengeField is the challenge as typed, and why the server refused it, if it did. */
export interface ChallengeField {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}

function CardIntro({
  order,
  flow,
  choices,
  onChoice,
  challenge,
}: {
  order: WizardOrderFragment;
  flow: Flow;
  choices: Record<string, boolean>;
  onChoice: (name: string, value: boolean) => void;
  challenge?: ChallengeField;
}) {
  return (
    <Stack>
      {order.subjectCard && (
        <Text data-testid="subject-card">
          Card{' '}
          <Text span ff="monospace" fw={700}>
            {order.subjectCard.serial}
          </Text>
        </Text>
      )}
      <Text>What happens:</Text>
      <List type="ordered" spacing="xs">
        {flow.introSteps.map((s) => (
          <List.Item key={s}>{s}</List.Item>
        ))}
      </List>
      {flow.choices?.map((c) => (
        <Checkbox
          key={c.name}
          label={c.label}
          description={c.description}
          checked={choices[c.name] ?? c.default}
          onChange={(e) => onChoice(c.name, e.currentTarget.checked)}
        />
      ))}
      {flow.challenge && challenge && (
        <TextInput
          label="Challenge"
          description="As the computer that has the card shows it. Upper or lower case and dashes do not matter."
          placeholder="XXXX-XXXX-XXXX"
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', maxWidth: '16em' } }}
          autoComplete="off"
          spellCheck={false}
          data-testid="unblock-challenge"
          value={challenge.value}
          error={challenge.error}
          onChange={(e) => challenge.onChange(e.currentTarget.value)}
        />
      )}
    </Stack>
  );
}

function NewCardIntro({ order }: { order: WizardOrderFragment }) {
  const options = order.options;
  return (
    <Stack>
      <Text>This creates a virtual smart card on this computer. What happens:</Text>
      <List type="ordered" spacing="xs">
        <List.Item>Next opens the vscard Desktop App on this computer.</List.Item>
        <List.Item>
          The Desktop App asks you for a PIN
          {options && ` of ${options.pin.minLength} to ${options.pin.maxLength} characters`}. Only the card sees it.
        </List.Item>
        <List.Item>It creates the card and your organisation issues its certificates; this page follows along.</List.Item>
        <List.Item>You check the new card here and finish.</List.Item>
      </List>
      {options && (
        <>
          <Text fw={500}>
            Your card will be valid for {validityText(options.validity)} and get these certificates:
          </Text>
          <Table withTableBorder aria-label="Certificates that will be issued" data-testid="planned-certificates">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Certificate</Table.Th>
                <Table.Th>Slot</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th visibleFrom="sm">Used to</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {options.certificates.map((c) => (
                <Table.Tr key={c.slot}>
                  <Table.Td>{humanize(c.template)}</Table.Td>
                  <Table.Td>{c.slot}</Table.Td>
                  <Table.Td>{c.algorithm}</Table.Td>
                  <Table.Td visibleFrom="sm">{slotPurpose[c.template] ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Text size="sm" c="dimmed">
            Issued to {options.properties.commonName} ({options.properties.email}).
          </Text>
        </>
      )}
    </Stack>
  );
}
