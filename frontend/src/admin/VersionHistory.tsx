import { Button, Group, Modal, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

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
  const { t } = useTranslation('admin');
  const [confirm, setConfirm] = useState<number>();
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  return (
    <>
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label={t('versions.table')} data-testid="script-versions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('versions.version')}</Table.Th>
              <Table.Th>{t('versions.saved')}</Table.Th>
              <Table.Th>{t('versions.by')}</Table.Th>
              <Table.Th>{t('versions.comment')}</Table.Th>
              <Table.Th>
                <Text span size="sm" fw={700}>
                  {t('versions.actions')}
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
                      {t('versions.current')}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{formatDateTime(v.createdAt)}</Table.Td>
                <Table.Td>{v.author}</Table.Td>
                <Table.Td>{v.comment}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="default" onClick={() => onLoad(v)} aria-label={t('versions.loadLabel', { version: v.version })}>
                      {t('versions.load')}
                    </Button>
                    <Button
                      size="xs"
                      variant="light"
                      disabled={v.version === current}
                      onClick={() => setConfirm(v.version)}
                      aria-label={t('versions.revertLabel', { version: v.version })}
                    >
                      {t('versions.revert')}
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={confirm !== undefined} onClose={() => setConfirm(undefined)} title={t('versions.revertTitle', { version: confirm ?? '' })}
        centered
        closeButtonProps={{ 'aria-label': t('common:app.close') }}
      >
        <Text mb="lg">{t('versions.revertConsequence', { version: confirm ?? '' })}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setConfirm(undefined)} data-autofocus>
            {t('versions.keep')}
          </Button>
          <Button
            loading={reverting}
            onClick={() => {
              if (confirm === undefined) return;
              void onRevert(confirm).then((ok) => ok && setConfirm(undefined));
            }}
          >
            {t('versions.revert')}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
