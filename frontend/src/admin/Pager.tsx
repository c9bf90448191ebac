import { Button, Group, Text } from '@mantine/core';

interface Props {
  page: number;
  total: number | undefined;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}

export function Pager({ page, total, hasPrevious, hasNext, onPrevious, onNext }: Props) {
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        Page {page}
        {total !== undefined && ` · ${total} in all`}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={!hasPrevious} onClick={onPrevious}>
          Previous page
        </Button>
        <Button variant="default" size="xs" disabled={!hasNext} onClick={onNext}>
          Next page
        </Button>
      </Group>
    </Group>
  );
}
