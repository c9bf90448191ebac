import { Badge, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';

import type { ScriptOptionsFragment } from '../gql/graphql';
import { humanize } from '../lib/format';

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
  const { pin, validity, properties, certificates } = options;
  return (
    <Stack gap="sm" data-testid="evaluated-options">
      <Title order={3} size="h4">
        Options for {userLabel}
      </Title>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Stack gap={4}>
          <Text fw={500}>PIN</Text>
          <Rows
            rows={[
              ['Length', `${pin.minLength} to ${pin.maxLength}`],
              ['Upper case', humanize(pin.upper)],
              ['Lower case', humanize(pin.lower)],
              ['Digits', humanize(pin.digits)],
              ['Special', humanize(pin.special)],
              ['Max repeated', String(pin.maxRepeated || 'no limit')],
              ['Max sequential', String(pin.maxSequential || 'no limit')],
              ['Retries', String(pin.retryCount)],
              ['Blocked PINs', String(pin.blockList.length)],
            ]}
          />
        </Stack>
        <Stack gap={4}>
          <Text fw={500}>Certificates</Text>
          <Group gap="xs">
            {certificates.map((c) => (
              <Badge key={c.slot} variant="default">
                {c.slot} {humanize(c.template)} · {c.algorithm}
              </Badge>
            ))}
          </Group>
          <Text fw={500} mt="xs">
            Validity
          </Text>
          <Text size="sm">{validity.years > 0 ? `${validity.years} years` : ''} ({validity.days} days)</Text>
          <Text fw={500} mt="xs">
            Properties
          </Text>
          <Rows
            rows={[
              ['User id', properties.userId],
              ['Server name', properties.serverName],
              ['Profile name', properties.profileName],
              ['Common name', properties.commonName],
              ['E-mail', properties.email],
              ['Organization', properties.organization || '—'],
            ]}
          />
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
