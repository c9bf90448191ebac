import { Button, Group, Modal, Text } from '@mantine/core';

interface Props {
  opened: boolean;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
}

/** CancelDialog asks before an order is cancelled; cancelling cannot be undone. */
export function CancelDialog({ opened, busy, onConfirm, onClose }: Props) {
  return (
    <Modal opened={opened} onClose={onClose} title="Cancel this order?" centered>
      <Text mb="lg">
        The order ends here. Nothing is left behind: a card the Desktop App has started is deleted and every certificate
        issued for it is revoked. You can start again at any time.
      </Text>
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
