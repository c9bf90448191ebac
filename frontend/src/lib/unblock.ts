// unblock-pin-offline refuses a challenge with INVALID_INPUT and a reason code
// (extensions.reason, server/enroll/unblockoffline.go); the words a person reads are in the catalogue (locales/*/errors.json).
import i18n from '../i18n';
import type { ApiError } from './errors';

export type ChallengeReason = 'CHALLENGE_MALFORMED' | 'CHALLENGE_MISTYPED' | 'CHALLENGE_OTHER_CARD';

const reasons: ReadonlySet<string> = new Set<ChallengeReason>(['CHALLENGE_MALFORMED', 'CHALLENGE_MISTYPED', 'CHALLENGE_OTHER_CARD']);

/** challengeKey is the catalogue key (namespace errors) of a reason's words. */
export function challengeKey(reason: ChallengeReason): string {
  return `errors:challenge.${reason}`;
}

/** challengeProblem gives the words for a refused challenge, or undefined for any other error. */
export function challengeProblem(err: ApiError | undefined): string | undefined {
  if (err?.code !== 'INVALID_INPUT' || err.extensions.field !== 'challenge') return undefined;
  const reason = err.extensions.reason;
  return i18n.t(challengeKey(typeof reason === 'string' && reasons.has(reason) ? (reason as ChallengeReason) : 'CHALLENGE_MALFORMED'));
}
