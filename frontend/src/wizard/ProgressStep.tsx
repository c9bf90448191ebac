import { Button, Group, Stack, Stepper, Text } from '@mantine/core';

import type { WizardOrderFragment } from '../gql/graphql';
import { formatDateTime } from '../lib/format';
import { useNow } from '../lib/useNow';
import { DesktopAppHelp } from './DesktopAppHelp';
import { DESKTOP_APP_HELP_AFTER_MS, PROGRESS, progressIndex, stepTime } from './orderState';
import type { Handoff } from './useOrderWizard';

interface Props {
  order: WizardOrderFragment;
  handoff: Handoff | undefined;
  renewing: boolean;
  onShowLink: () => void;
  onNewLink: () => void;
}

/** ProgressStep follows the Desktop App live, with the time each step was reached. */
export function ProgressStep({ order, handoff, renewing, onShowLink, onNewLink }: Props) {
  const awaiting = order.state === 'AWAITING_DESKTOP_APP';
  const now = useNow(1000, awaiting);
  const done = progressIndex(order.state);
  const slow = awaiting && handoff !== undefined && now - handoff.receivedAt > DESKTOP_APP_HELP_AFTER_MS;

  return (
    <Stack>
      <Text>
        {awaiting
          ? 'Waiting for the Desktop App. Open it with the link, then type your PIN there.'
          : 'The Desktop App is creating your card. Keep this page open; it follows every step.'}
      </Text>
      <Stepper active={done} orientation="vertical" size="sm" allowNextStepsSelect={false} aria-label="Progress">
        {PROGRESS.map((p, i) => {
          const at = stepTime(order.steps, p.state);
          const current = i === done;
          return (
            <Stepper.Step
              key={p.state}
              label={current ? p.activeLabel : p.label}
              description={at && i < done ? formatDateTime(at) : current ? 'In progress…' : undefined}
              loading={current && !awaiting}
              data-testid={`progress-${p.state}`}
            />
          );
        })}
      </Stepper>
      {awaiting && (
        <Group>
          <Button variant="light" onClick={onShowLink}>
            Show the Desktop App link
          </Button>
        </Group>
      )}
      {slow && <DesktopAppHelp onNewLink={onNewLink} busy={renewing} />}
    </Stack>
  );
}
