import { describe, expect, it } from 'vitest';

import i18n from '../i18n';
import { challengeKey, challengeProblem } from './unblock';

describe('challengeProblem', () => {
  const err = (reason: unknown, code = 'INVALID_INPUT', field = 'challenge') => ({
    code,
    message: 'server words',
    extensions: { code, field, reason },
  });
  it('ok/each reason has its words', () => {
    for (const reason of ['CHALLENGE_MALFORMED', 'CHALLENGE_MISTYPED', 'CHALLENGE_OTHER_CARD'] as const) {
      expect(challengeProblem(err(reason))).toBe(i18n.t(challengeKey(reason)));
    }
  });
  it('ok/an unknown reason reads as malformed, never as the server message', () => {
    expect(challengeProblem(err('SOMETHING_NEW'))).toBe(i18n.t(challengeKey('CHALLENGE_MALFORMED')));
  });
  it('ok/other errors are not the challenge', () => {
    expect(challengeProblem(err('CHALLENGE_MISTYPED', 'RATE_LIMITED'))).toBeUndefined();
    expect(challengeProblem(err('CHALLENGE_MISTYPED', 'INVALID_INPUT', 'card'))).toBeUndefined();
    expect(challengeProblem(undefined)).toBeUndefined();
  });
});
