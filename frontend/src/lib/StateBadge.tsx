import { Badge, type MantineColor } from '@mantine/core';

import { humanize } from './format';

const colors: Record<string, MantineColor> = {
  ACTIVE: 'green',
  VALID: 'green',
  COMPLETED: 'green',
  CARD_READY: 'teal',
  REGISTERED: 'gray',
  STARTED: 'blue',
  AWAITING_DESKTOP_APP: 'blue',
  DESKTOP_APP_CONNECTED: 'blue',
  CREATING_CARD: 'blue',
  ISSUING_CERTIFICATES: 'blue',
  RESETTING_PIN: 'blue',
  INACTIVE: 'orange',
  ON_HOLD: 'orange',
  EXPIRED: 'orange',
  LOCKED: 'red',
  REVOKED: 'red',
  FAILED: 'red',
  CANCELLED: 'gray',
};

/** StateBadge shows a user, card, certificate or order state with a consistent colour. */
export function StateBadge({ state, label }: { state: string; label?: string }) {
  return (
    <Badge color={colors[state] ?? 'gray'} variant="light" aria-label={label ? `${label}: ${humanize(state)}` : undefined}>
      {humanize(state)}
    </Badge>
  );
}
