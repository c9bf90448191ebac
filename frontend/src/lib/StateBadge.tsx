import { Badge, type MantineColor } from '@mantine/core';
import { useTranslation } from 'react-i18next';

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

/** StateKind says whose state it is: the same value (REGISTERED) reads differently for a card and a user. */
export type StateKind = 'card' | 'certificate' | 'order' | 'user';

/**
 * StateBadge shows a user, card, certificate or order state in words (never the state's
 * name) with a consistent colour.
 */
export function StateBadge({ state, kind, label }: { state: string; kind: StateKind; label?: string }) {
  const { t } = useTranslation();
  const words = t(`state.${kind}.${state}`, { defaultValue: t('state.unknown') });
  return (
    <Badge color={colors[state] ?? 'gray'} variant="light" aria-label={label ? t('state.labelled', { label, state: words }) : undefined}>
      {words}
    </Badge>
  );
}
