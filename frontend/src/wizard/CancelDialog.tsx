import { Button, Group, Modal, Text } from '@mantine/core';

interface Props {
  opened: boolean;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
  /** what says what cancelling leaves behind, in the process's words. */
  what: string;
}

/** CancelDialog asks before an order is cancelled; cancelling cannot be undone. */
export function CancelDialog({ opened, busy, onConfirm, onClose, what }: Props) {
  return (
    <Modal opened={opened} onClose={onClose} title="Cancel this order?" centered>
      <Text mb="lg">{what}</Text>
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose} data-autofocus>
          Keep going
        </Button>
        <Button color="red" onClick={onConfirm} loading={busy}>
          Cancel order
        </Button>
      </Group>
    </Modal>
  );
}
