import { Checkbox, List, Stack, Table, Text, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { WizardOrderFragment } from '../gql/graphql';
import type { Flow } from './flows';

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
  const { t } = useTranslation('wizard');
  return (
    <Stack>
      {order.subjectCard && (
        <Text data-testid="subject-card">
          {t('cardIntro.card')}{' '}
          <Text span ff="monospace" fw={700}>
            {order.subjectCard.serial}
          </Text>
        </Text>
      )}
      <Text>{t('cardIntro.whatHappens')}</Text>
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
          label={t('cardIntro.challenge')}
          description={t('cardIntro.challengeHint')}
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
  const { t } = useTranslation('wizard');
  const options = order.options;
  const validity = options && (options.validity.years > 0 ? { unit: 'years', count: options.validity.years } : { unit: 'days', count: options.validity.days });
  return (
    <Stack>
      <Text>{t('intro.lead')}</Text>
      <List type="ordered" spacing="xs">
        <List.Item>{t('intro.step1')}</List.Item>
        <List.Item>{options ? t('intro.step2Length', { min: options.pin.minLength, max: options.pin.maxLength }) : t('intro.step2')}</List.Item>
        <List.Item>{t('intro.step3')}</List.Item>
        <List.Item>{t('intro.step4')}</List.Item>
      </List>
      {options && validity && (
        <>
          <Text fw={500}>{validity.unit === 'years' ? t('intro.validity_years', { count: validity.count }) : t('intro.validity_days', { count: validity.count })}</Text>
          {/* People read what a certificate is for and its key in words; PIV slot numbers and algorithm names are for administrators. */}
          <Table withTableBorder aria-label={t('intro.tableLabel')} data-testid="planned-certificates">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('intro.certificate')}</Table.Th>
                <Table.Th>{t('intro.key')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('intro.usedTo')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {options.certificates.map((c) => (
                <Table.Tr key={c.slot}>
                  <Table.Td>{t(`intro.template.${c.template}`, { defaultValue: c.template })}</Table.Td>
                  <Table.Td>{t(`intro.algorithm.${c.algorithm}`, { defaultValue: c.algorithm })}</Table.Td>
                  <Table.Td visibleFrom="sm">{t(`intro.purpose.${c.template}`, { defaultValue: '' })}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Text size="sm" c="dimmed">
            {t('intro.issuedTo', { name: options.properties.commonName, email: options.properties.email })}
          </Text>
        </>
      )}
    </Stack>
  );
}
