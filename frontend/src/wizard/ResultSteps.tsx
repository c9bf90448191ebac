import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';

import type { WizardOrderFragment } from '../gql/graphql';
import type { Flow } from './flows';
import { endMessage } from './orderState';

/** DoneStep: the order completed; the user goes on to Cards. */
export function DoneStep({ order, flow }: { order: WizardOrderFragment; flow: Flow }) {
  const serial = order.card?.serial ?? order.subjectCard?.serial;
  return (
    <Stack>
      <Alert color="green" title={flow.doneTitle} data-testid="order-done">
        {flow.done(serial)}
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
export function EndedStep({ order, flow }: { order: WizardOrderFragment; flow: Flow }) {
  const msg = endMessage(order.state, order.failureReason, flow.end);
  return (
    <Stack>
      <Alert color={msg?.color ?? 'gray'} title={msg?.title ?? 'The order ended'} data-testid="order-ended" role="status">
        <Text size="sm">{msg?.message}</Text>
      </Alert>
      <Group>
        <Button component={Link} to={flow.again}>
          Start again
        </Button>
        <Button component={Link} to="/" variant="default">
          Back to the start page
        </Button>
      </Group>
    </Stack>
  );
}
