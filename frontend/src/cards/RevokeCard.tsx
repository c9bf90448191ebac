import { Alert, Button, Group, Modal, Radio, Stack, Text, Textarea } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../gql';
import type { RevocationReason } from '../gql/graphql';
import { apiError } from '../lib/errors';
import { revocationChoices } from './revocation';

// The server's limit (enroll.MaxRevokeComment).
const maxComment = 500;

const RevokeCardDoc = graphql(`
  mutation RevokeCard($serial: String!, $reason: RevocationReason!, $comment: String) {
    revokeCard(serial: $serial, reason: $reason, comment: $comment) {
      id
      ...CardDetails
    }
  }
`);

/**
 * RevokeCard takes a card out of service, e.g. when the computer it lives on is lost:
 * the card becomes inactive and its certificates are revoked. It asks first, since this
 * cannot be undone, and asks why: the reason decides how relying parties treat what the
 * card signed before (lost or stolen: nothing is trusted any more).
 */
export function RevokeCard({ serial, opened, onClose, onRevoked }: { serial: string; opened: boolean; onClose: () => void; onRevoked: () => void }) {
  const setOpened = (v: boolean) => {
    if (!v) onClose();
  };
  const [reason, setReason] = useState<RevocationReason | null>(null);
  const [comment, setComment] = useState('');
  const [{ fetching, error }, revoke] = useMutation(RevokeCardDoc);
  const problem = apiError(error);
  const { t } = useTranslation('cards');

  const confirm = async () => {
    if (!reason) return;
    const res = await revoke({ serial, reason, comment: comment.trim() || null });
    if (!res.error) {
      setOpened(false);
      onRevoked();
    }
  };

  return (
    <>
      <Modal opened={opened} onClose={() => setOpened(false)} title={t('revoke.title')} centered>
        <Stack>
          <Text size="sm">
            {t('revoke.body', { serial })}
          </Text>
          <Radio.Group
            label={t('revoke.why')}
            value={reason}
            onChange={(v) => setReason(v as RevocationReason)}
            required
          >
            <Stack gap="xs" mt="xs">
              {revocationChoices().map((c) => (
                <Radio key={c.value} value={c.value} label={c.label} description={c.description} />
              ))}
            </Stack>
          </Radio.Group>
          <Textarea
            label={t('revoke.comment')}
            description={t('revoke.commentHint')}
            placeholder={t('revoke.commentPlaceholder')}
            value={comment}
            onChange={(e) => setComment(e.currentTarget.value)}
            maxLength={maxComment}
          />
          {problem && (
            <Alert color="red" role="alert" title={t('revoke.failed')}>
              {problem.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpened(false)} data-autofocus>
              {t('revoke.keep')}
            </Button>
            <Button color="red" onClick={() => void confirm()} loading={fetching} disabled={!reason}>
              {t('revoke.confirm')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
