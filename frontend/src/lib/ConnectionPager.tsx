import { Button, Group, Text } from '@mantine/core';

import i18n from '../i18n';
import type { Connection, Pager } from './connection';

interface Props {
  pager: Pick<Pager, 'page' | 'hasPrevious' | 'next' | 'previous'>;
  /** connection is the current page's answer; undefined while the first one loads. */
  connection: Connection | undefined;
}

/**
 * ConnectionPager shows where the reader is in a connection, with Previous and Next page.
 * It takes its words from i18n directly (no hook, so it can be called as a function in its
 * test); the page around it re-renders when the language changes.
 */
export function ConnectionPager({ pager, connection }: Props) {
  const total = connection?.totalCount;
  const t = i18n.getFixedT(null, 'common', 'pager');
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        {typeof total === 'number' ? t('pageOfTotal', { page: pager.page, total }) : t('page', { page: pager.page })}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={!pager.hasPrevious} onClick={pager.previous}>
          {t('previous')}
        </Button>
        <Button
          variant="default"
          size="xs"
          disabled={!connection?.pageInfo.hasNextPage}
          onClick={() => pager.next(connection?.pageInfo.endCursor)}
        >
          {t('next')}
        </Button>
      </Group>
    </Group>
  );
}
