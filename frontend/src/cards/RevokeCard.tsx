import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useState } from 'react';
import { useMutation } from 'urql';

import { graphql } from '../gql';
import { apiError } from '../lib/errors';

const RevokeCardDoc = graphql(`
  mutation RevokeCard($serial: String!, $reason: String) {
    revokeCard(serial: $serial, reason: $reason) {
      id
      ...CardDetails
    }
  }
`);

/**
 * RevokeCard takes a card out of service, e.g. when the computer it lives on is lost:
 * the card becomes inactive and its certificates are revoked. It asks first, since this
 * cannot be undone.
 */
export function RevokeCard({ serial, onRevoked }: { serial: string; onRevoked: () => void }) {
  const [opened, setOpened] = useState(false);
  const [reason, setReason] = useState('');
  const [{ fetching, error }, revoke] = useMutation(RevokeCardDoc);
  const problem = apiError(error);

  const confirm = async () => {
    const res = await revoke({ serial, reason: reason.trim() || null });
    if (!res.error) {
      setOpened(false);
      onRevoked();
    }
  };

  return (
    <>
      <Group justify="flex-end">
        <Button variant="subtle" color="red" size="xs" onClick={() => setOpened(true)}>
          Revoke card {serial}
        </Button>
      </Group>
      <Modal opened={opened} onClose={() => setOpened(false)} title="Revoke this card?" centered>
        <Stack>
          <Text size="sm">
            Card {serial} stops working everywhere: its certificates are revoked and it can no longer sign you in. This
            cannot be undone; you can get a new card afterwards.
          </Text>
          <Textarea
            label="Why (optional)"
            placeholder="Lost laptop, card deleted, …"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            maxLength={200}
          />
          {problem && (
            <Alert color="red" role="alert" title="The card was not revoked">
              {problem.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpened(false)} data-autofocus>
              Keep the card
            </Button>
            <Button color="red" onClick={() => void confirm()} loading={fetching}>
              Revoke card
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
