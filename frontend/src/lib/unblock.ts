// unblock-pin-offline refuses a challenge with INVALID_INPUT and a reason code
// (extensions.reason, server/enroll/unblockoffline.go); the words a person reads are here.
import type { ApiError, Language } from './errors';

export type ChallengeReason = 'CHALLENGE_MALFORMED' | 'CHALLENGE_MISTYPED' | 'CHALLENGE_OTHER_CARD';

const language: Language = 'en';

export const challengeWords: Record<Language, Record<ChallengeReason, string>> = {
  en: {
    CHALLENGE_MALFORMED: 'A challenge has 12 letters and digits in three groups of four, such as 7K2M-Q9XD-4HBW. Check what you typed.',
    CHALLENGE_MISTYPED: 'The challenge has a typing mistake. Compare it with what the computer that has the card shows, symbol by symbol.',
    CHALLENGE_OTHER_CARD:
      'This challenge is from another card. Check the card number the computer shows, and start from that card on your Cards page.',
  },
};

/** challengeProblem gives the words for a refused challenge, or undefined for any other error. */
export function challengeProblem(err: ApiError | undefined): string | undefined {
  if (err?.code !== 'INVALID_INPUT' || err.extensions.field !== 'challenge') return undefined;
  const reason = err.extensions.reason;
  return typeof reason === 'string' && Object.hasOwn(challengeWords[language], reason)
    ? challengeWords[language][reason as ChallengeReason]
    : challengeWords[language].CHALLENGE_MALFORMED;
}
