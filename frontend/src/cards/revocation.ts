import type { CrlReason, RevocationReason } from '../gql/graphql';

/** The reasons a person can give, in the order the revoke dialog offers them. */
export const revocationChoices: { value: RevocationReason; label: string; description: string }[] = [
  {
    value: 'LOST_OR_STOLEN',
    label: 'Lost or stolen',
    description: 'The card, or the computer it is on, is gone. Its certificates will not be trusted, not even for what they signed earlier.',
  },
  { value: 'REPLACED', label: 'Replaced', description: 'You have a new card instead of this one.' },
  { value: 'NO_LONGER_NEEDED', label: 'No longer needed', description: 'You do not need this card any more.' },
];

// What the portal says for each RFC 5280 reason a certificate can carry: the person's
// words for the three they choose between, plain words for the rest.
const reasonWords: Record<CrlReason, string> = {
  keyCompromise: 'lost or stolen',
  superseded: 'replaced',
  cessationOfOperation: 'no longer needed',
  certificateHold: 'on hold',
  unspecified: 'no reason given',
  affiliationChanged: 'the holder’s affiliation changed',
  privilegeWithdrawn: 'the holder’s privilege was withdrawn',
  cACompromise: 'the issuing authority was compromised',
  aACompromise: 'the attribute authority was compromised',
};

/** reasonInWords says a certificate's revocation reason as the portal shows it. */
export function reasonInWords(reason: CrlReason | null | undefined): string | null {
  return reason ? (reasonWords[reason] ?? null) : null;
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
  return `Revoked on ${formatDate(last.revokedAt!)}${words ? ` — ${words}` : ''}`;
}
