import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

import type { WizardOrderFragment } from '../gql/graphql';
import type { Flow } from './flows';
import { endMessage, undoneOf } from './orderState';

/**
 * DoneStep: the order completed; the user goes on to Cards. For a flow that answered a
 * challenge it shows the response, which this page alone has.
 */
export function DoneStep({ order, flow, response }: { order: WizardOrderFragment; flow: Flow; response?: string }) {
  const { t } = useTranslation('wizard');
  const serial = order.card?.serial ?? order.subjectCard?.serial;
  if (flow.challenge && !response) {
    return (
      <Stack>
        <Alert color="gray" title={t('response.shownTitle')} data-testid="order-done" role="status">
          {t('response.shown')}
        </Alert>
        <Group>
          <Button component={Link} to="/cards">
            {t('result.showCards')}
          </Button>
        </Group>
      </Stack>
    );
  }
  return (
    <Stack>
      <Alert color="green" title={flow.doneTitle} data-testid="order-done">
        {flow.done(serial)}
      </Alert>
      {response && (
        <Text ff="monospace" fw={700} fz={32} data-testid="unblock-response">
          {response}
        </Text>
      )}
      <Group>
        <Button component={Link} to="/cards">
          {t('result.showCards')}
        </Button>
        <Button component={Link} to="/" variant="default">
          {t('page.back')}
        </Button>
      </Group>
    </Stack>
  );
}

/** EndedStep: the order was cancelled, failed or expired; the user may start again. */
export function EndedStep({ order, flow }: { order: WizardOrderFragment; flow: Flow }) {
  const { t } = useTranslation('wizard');
  const msg = endMessage(order.state, order.failureReason, flow.end, undoneOf(order.steps, order.state));
  return (
    <Stack>
      <Alert color={msg?.color ?? 'gray'} title={msg?.title ?? t('getCard.heading.ended')} data-testid="order-ended" role="status">
        <Text size="sm">{msg?.message}</Text>
      </Alert>
      <Group>
        <Button component={Link} to={flow.again}>
          {t('result.startAgain')}
        </Button>
        <Button component={Link} to="/" variant="default">
          {t('page.back')}
        </Button>
      </Group>
    </Stack>
  );
}
