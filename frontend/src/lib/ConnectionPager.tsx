import { Button, Group, Text } from '@mantine/core';

import type { Connection, Pager } from './connection';

interface Props {
  pager: Pick<Pager, 'page' | 'hasPrevious' | 'next' | 'previous'>;
  /** connection is the current page's answer; undefined while the first one loads. */
  connection: Connection | undefined;
}

/** ConnectionPager shows where the reader is in a connection, with Previous and Next page. */
export function ConnectionPager({ pager, connection }: Props) {
  const total = connection?.totalCount;
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        Page {pager.page}
        {typeof total === 'number' && ` · ${total} in all`}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={!pager.hasPrevious} onClick={pager.previous}>
          Previous page
        </Button>
        <Button
          variant="default"
          size="xs"
          disabled={!connection?.pageInfo.hasNextPage}
          onClick={() => pager.next(connection?.pageInfo.endCursor)}
        >
          Next page
        </Button>
      </Group>
    </Group>
  );
}
