import { describe, expect, it } from 'vitest';

import i18n from '../i18n';
import { pinStateCode, pinStateKey } from './pinState';

describe('pinStateCode', () => {
  const st = (blocked: boolean, pukBlocked: boolean) => ({ triesLeft: blocked ? 0 : 3, blocked, pukBlocked, reportedAt: '2026-12-04T12:00:00Z' });
  it('says nothing of a PIN that works, or of a card out of service', () => {
    expect(pinStateCode({ state: 'ACTIVE', pinState: st(false, false) })).toBeUndefined();
    expect(pinStateCode({ state: 'ACTIVE', pinState: null })).toBeUndefined();
    expect(pinStateCode({ state: 'INACTIVE', pinState: st(true, false) })).toBeUndefined();
  });
  it('sends a blocked PIN to Reset PIN, and a blocked PUK to Replace', () => {
    expect(pinStateCode({ state: 'ACTIVE', pinState: st(true, false) })).toBe('PIN_BLOCKED');
    expect(pinStateCode({ state: 'ACTIVE', pinState: st(true, true) })).toBe('PUK_BLOCKED');
    expect(i18n.t(pinStateKey('PIN_BLOCKED', 'title'))).toBe('PIN blocked — reset it');
    expect(i18n.t(pinStateKey('PUK_BLOCKED', 'body'))).toMatch(/Replace/);
  });
});
