import { Badge, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { ScriptOptionsFragment } from '../gql/graphql';
import { formatNumber } from '../lib/format';

function Rows({ rows }: { rows: [string, string][] }) {
  return (
    <Table variant="vertical" withTableBorder>
      <Table.Tbody>
        {rows.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th w={150}>{k}</Table.Th>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>{v}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** EvaluatedOptions shows what the script yields for one user. */
export function EvaluatedOptions({ options, userLabel }: { options: ScriptOptionsFragment; userLabel: string }) {
  const { t } = useTranslation('admin');
  const { pin, validity, properties, certificates } = options;
  const rule = (r: string) => t(`options.rule.${r}`, { defaultValue: r });
  const limit = (n: number) => (n ? formatNumber(n) : t('options.noLimit'));
  return (
    <Stack gap="sm" data-testid="evaluated-options">
      <Title order={2} size="h4">
        {t('options.for', { name: userLabel })}
      </Title>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Stack gap={4}>
          <Text fw={500}>{t('options.pin')}</Text>
          <Rows
            rows={[
              [t('options.length'), t('options.lengthRange', { min: formatNumber(pin.minLength), max: formatNumber(pin.maxLength) })],
              [t('options.upper'), rule(pin.upper)],
              [t('options.lower'), rule(pin.lower)],
              [t('options.digits'), rule(pin.digits)],
              [t('options.special'), rule(pin.special)],
              [t('options.maxRepeated'), limit(pin.maxRepeated)],
              [t('options.maxSequential'), limit(pin.maxSequential)],
              [t('options.retries'), formatNumber(pin.retryCount)],
              [t('options.blocked'), formatNumber(pin.blockList.length)],
            ]}
          />
        </Stack>
        <Stack gap={4}>
          <Text fw={500}>{t('options.certificates')}</Text>
          <Group gap="xs">
            {certificates.map((c) => (
              <Badge key={c.slot} variant="default">
                {c.slot} {t(`options.template.${c.template}`, { defaultValue: c.template })} · {c.algorithm}
              </Badge>
            ))}
          </Group>
          <Text fw={500} mt="xs">
            {t('options.validity')}
          </Text>
          <Text size="sm">
            {validity.years > 0 ? `${t('options.years', { count: validity.years })} ` : ''}({t('options.days', { count: validity.days })})
          </Text>
          <Text fw={500} mt="xs">
            {t('options.properties')}
          </Text>
          <Rows
            rows={[
              [t('options.userId'), properties.userId],
              [t('options.serverName'), properties.serverName],
              [t('options.profileName'), properties.profileName],
              [t('options.commonName'), properties.commonName],
              [t('options.email'), properties.email],
              [t('options.organization'), properties.organization || t('common:empty')],
            ]}
          />
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
