import { Button, Group, Stack, Stepper, Text } from '@mantine/core';

import type { WizardOrderFragment } from '../gql/graphql';
import { formatDateTime } from '../lib/format';
import { useNow } from '../lib/useNow';
import { DesktopAppHelp } from './DesktopAppHelp';
import { DESKTOP_APP_HELP_AFTER_MS, PROGRESS, progressIndex, stepTime, WAITING_LABEL } from './orderState';
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
  const current = progressIndex(order.state);
  const slow = awaiting && handoff !== undefined && now - handoff.receivedAt > DESKTOP_APP_HELP_AFTER_MS;

  return (
    <Stack>
      <Text>
        {awaiting
          ? 'Waiting for the Desktop App. Open it with the link, then type your PIN there.'
          : 'The Desktop App is creating your card. Keep this page open; it follows every step.'}
      </Text>
      <Stepper active={current} orientation="vertical" size="sm" allowNextStepsSelect={false} aria-label="Progress">
        {PROGRESS.map((p, i) => {
          const at = stepTime(order.steps, p.state);
          const isCurrent = i === current;
          const label = isCurrent ? (awaiting ? WAITING_LABEL : p.activeLabel) : p.label;
          return (
            <Stepper.Step
              key={p.state}
              label={label}
              description={at ? formatDateTime(at) : isCurrent ? 'Open the Desktop App with the link' : undefined}
              loading={isCurrent && !awaiting}
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
