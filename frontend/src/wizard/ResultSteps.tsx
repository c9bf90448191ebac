import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';

import type { WizardOrderFragment } from '../gql/graphql';
import { endMessage } from './orderState';

/** DoneStep: the card is active; the user goes on to Cards. */
export function DoneStep({ order }: { order: WizardOrderFragment }) {
  return (
    <Stack>
      <Alert color="green" title="Your virtual smart card is ready" data-testid="order-done">
        {order.card ? `Card ${order.card.serial} is active` : 'The card is active'} and its certificates are valid. You
        can use it right away on this computer.
      </Alert>
      <Group>
        <Button component={Link} to="/cards">
          Show my cards
        </Button>
        <Button component={Link} to="/" variant="default">
          Back to the start page
        </Button>
      </Group>
    </Stack>
  );
}

/** EndedStep: the order was cancelled, failed or expired; the user may start again. */
export function EndedStep({ order }: { order: WizardOrderFragment }) {
  const msg = endMessage(order.state, order.failureReason);
  return (
    <Stack>
      <Alert color={msg?.color ?? 'gray'} title={msg?.title ?? 'The order ended'} data-testid="order-ended" role="status">
        <Text size="sm">{msg?.message}</Text>
      </Alert>
      <Group>
        <Button component={Link} to="/get-virtual-smart-card">
          Start again
        </Button>
        <Button component={Link} to="/" variant="default">
          Back to the start page
        </Button>
      </Group>
    </Stack>
  );
}
