import { Button, Group, Stack, Stepper, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { WizardOrderFragment } from '../gql/graphql';
import { formatDateTime } from '../lib/format';
import { useNow } from '../lib/useNow';
import { DesktopAppHelp } from './DesktopAppHelp';
import type { Flow } from './flows';
import { DESKTOP_APP_HELP_AFTER_MS, progressIndex, stepTime } from './orderState';
import type { Handoff } from './useOrderWizard';

interface Props {
  order: WizardOrderFragment;
  flow: Flow;
  handoff: Handoff | undefined;
  renewing: boolean;
  onShowLink: () => void;
  onNewLink: () => void;
}

/** ProgressStep follows the Desktop App live, with the time each step was reached. */
export function ProgressStep({ order, flow, handoff, renewing, onShowLink, onNewLink }: Props) {
  const { t } = useTranslation('wizard');
  const awaiting = order.state === 'AWAITING_DESKTOP_APP';
  const now = useNow(1000, awaiting);
  const current = progressIndex(order.state, flow);
  const slow = awaiting && handoff !== undefined && now - handoff.receivedAt > DESKTOP_APP_HELP_AFTER_MS;

  return (
    <Stack>
      <Text>
        {awaiting ? flow.waiting : flow.working}
      </Text>
      <Stepper active={current} orientation="vertical" size="sm" allowNextStepsSelect={false} aria-label={t('progress.label')}>
        {flow.progress.map((p, i) => {
          const at = stepTime(order.steps, p.state);
          const isCurrent = i === current;
          const label = isCurrent ? (awaiting ? t('progress.waiting') : p.activeLabel) : p.label;
          return (
            <Stepper.Step
              key={p.state}
              label={label}
              description={at ? formatDateTime(at) : isCurrent ? t('progress.openWithLink') : undefined}
              loading={isCurrent && !awaiting}
              data-testid={`progress-${p.state}`}
            />
          );
        })}
      </Stepper>
      {awaiting && (
        <Group>
          <Button variant="light" onClick={onShowLink}>
            {t('progress.showLink')}
          </Button>
        </Group>
      )}
      {slow && <DesktopAppHelp onNewLink={onNewLink} busy={renewing} />}
    </Stack>
  );
}
