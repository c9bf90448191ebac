import type { CrlReason, RevocationReason } from '../gql/graphql';
import i18n from '../i18n';

// The words come from the cards catalogue (revoke.*) in the language the SPA speaks when
// they are asked for: functions, not module-level constants, so that switching the
// language in the header changes them too.
const tr = () => i18n.getFixedT(null, 'cards', 'revoke');

/** REVOCATION_CHOICES are the reasons a person can give, in the order the revoke dialog offers them. */
export const REVOCATION_CHOICES: readonly RevocationReason[] = ['LOST_OR_STOLEN', 'REPLACED', 'NO_LONGER_NEEDED'];

/** revocationChoices are the reasons a person can give, with their words in the current language. */
export function revocationChoices(): { value: RevocationReason; label: string; description: string }[] {
  const t = tr();
  return REVOCATION_CHOICES.map((value) => ({
    value,
    label: t(`choice.${value}.label`),
    description: t(`choice.${value}.description`),
  }));
}

// What the portal says for each RFC 5280 reason a certificate can carry: the person's
// words for the three they choose between, plain words for the rest (revoke.reason.*).
const REASONS: readonly CrlReason[] = [
  'keyCompromise',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unspecified',
  'affiliationChanged',
  'privilegeWithdrawn',
  'cACompromise',
  'aACompromise',
];

/** reasonInWords says a certificate's revocation reason as the portal shows it, in the current language. */
export function reasonInWords(reason: CrlReason | null | undefined): string | null {
  return reason && REASONS.includes(reason) ? tr()(`reason.${reason}`) : null;
}

/** revocationSummary is e.g. "Revoked on 2 Dec 2026 — lost or stolen", or null when nothing is revoked. */
export function revocationSummary(
  certs: { state: string; revokedAt?: string | null; revocationReason?: CrlReason | null }[],
  formatDate: (iso: string) => string,
): string | null {
  const revoked = certs.filter((c) => c.state === 'REVOKED' && c.revokedAt);
  if (revoked.length === 0) return null;
  // The latest revocation is the one that took the card out of service.
  const last = revoked.reduce((a, b) => (new Date(b.revokedAt!) > new Date(a.revokedAt!) ? b : a));
  const words = reasonInWords(last.revocationReason);
  const t = tr();
  const on = t('revokedOn', { date: formatDate(last.revokedAt!) });
  return words ? `${on} — ${words}` : on;
}
