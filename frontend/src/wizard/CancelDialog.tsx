import { Button, Group, Modal, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

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
  const { t } = useTranslation('wizard');
  return (
    <Modal opened={opened} onClose={onClose} title={t('dialog.cancelTitle')} centered>
      <Text mb="lg">{what}</Text>
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose} data-autofocus>
          {t('dialog.keepGoing')}
        </Button>
        <Button color="red" onClick={onConfirm} loading={busy}>
          {t('dialog.cancelOrder')}
        </Button>
      </Group>
    </Modal>
  );
}
