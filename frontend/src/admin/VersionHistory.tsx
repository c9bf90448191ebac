import { Button, Group, Modal, Table, Text } from '@mantine/core';
import { useState } from 'react';

import { formatDateTime } from '../lib/format';

export interface Version {
  version: number;
  author: string;
  comment: string;
  createdAt: string;
  source: string;
}

interface Props {
  versions: readonly Version[];
  current: number;
  reverting: boolean;
  onLoad: (v: Version) => void;
  onRevert: (version: number) => Promise<boolean>;
}

/** VersionHistory lists every saved version, newest first, with load and revert. */
export function VersionHistory({ versions, current, reverting, onLoad, onRevert }: Props) {
  const [confirm, setConfirm] = useState<number>();
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  return (
    <>
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label="Versions" data-testid="script-versions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Saved</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th>Comment</Table.Th>
              <Table.Th>
                <Text span size="sm" fw={700}>
                  Actions
                </Text>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sorted.map((v) => (
              <Table.Tr key={v.version} data-testid={`script-version-${v.version}`}>
                <Table.Td>
                  {v.version}
                  {v.version === current && (
                    <Text span size="xs" c="green" ml={6}>
                      current
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{formatDateTime(v.createdAt)}</Table.Td>
                <Table.Td>{v.author}</Table.Td>
                <Table.Td>{v.comment}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="default" onClick={() => onLoad(v)} aria-label={`Load version ${v.version} into the editor`}>
                      Load
                    </Button>
                    <Button
                      size="xs"
                      variant="light"
                      disabled={v.version === current}
                      onClick={() => setConfirm(v.version)}
                      aria-label={`Revert to version ${v.version}`}
                    >
                      Revert
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={confirm !== undefined} onClose={() => setConfirm(undefined)} title={`Revert to version ${confirm ?? ''}?`} centered>
        <Text mb="lg">
          Version {confirm} is saved again as the newest version and applies to every new order. The versions in between
          stay in the history.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setConfirm(undefined)} data-autofocus>
            Keep the current version
          </Button>
          <Button
            loading={reverting}
            onClick={() => {
              if (confirm === undefined) return;
              void onRevert(confirm).then((ok) => ok && setConfirm(undefined));
            }}
          >
            Revert
          </Button>
        </Group>
      </Modal>
    </>
  );
}
