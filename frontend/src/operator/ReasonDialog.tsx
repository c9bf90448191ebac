import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { apiError, type ApiError } from '../lib/errors';

/** MAX_REASON is the server's bound on a reason (audit.MaxReason). */
const MAX_REASON = 500;

interface Props {
  opened: boolean;
  title: string;
  /** consequence says what will happen, in words: "bob's 2 cards will be locked …". */
  consequence: string;
  confirmLabel: string;
  /** danger colours the confirm button red, for what cannot be undone. */
  danger?: boolean;
  /** children are further choices (a state, a revocation reason) above the reason. */
  children?: ReactNode;
  onClose: () => void;
  /** onConfirm runs the action with the reason; an error it returns stays in the dialog. */
  onConfirm: (reason: string) => Promise<{ error?: Parameters<typeof apiError>[0] } | undefined>;
}

/**
 * ReasonDialog is the confirmation every operator action goes through: it names the
 * consequence and will not go on without a reason, which the server writes to the audit log.
 */
export function ReasonDialog({ opened, title, consequence, confirmLabel, danger, children, onClose, onConfirm }: Props) {
  const { t } = useTranslation('operator');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiError>();
  const close = () => {
    setReason('');
    setProblem(undefined);
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    setProblem(undefined);
    const res = await onConfirm(reason.trim());
    setBusy(false);
    const err = apiError(res?.error);
    if (err) {
      setProblem(err);
      return;
    }
    setReason('');
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} closeButtonProps={{ 'aria-label': t('dialog.close') }}>
      <Stack>
        <Text data-testid="consequence">{consequence}</Text>
        {children}
        <Textarea
          label={t('dialog.reason')}
          description={t('dialog.reasonHint')}
          required
          autosize
          minRows={2}
          maxLength={MAX_REASON}
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          data-autofocus
        />
        {problem && (
          <Alert color="red" role="alert" title={t('dialog.failed')}>
            {problem.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {t('dialog.cancel')}
          </Button>
          <Button color={danger ? 'red' : undefined} loading={busy} disabled={reason.trim() === ''} onClick={() => void confirm()}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
