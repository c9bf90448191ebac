import { describe, expect, it } from 'vitest';
import { expiryText, taskText } from './Tasks';

describe('task words', () => {
  it('ok/a card due for renewal names its serial and the days left', () => {
    expect(
      taskText({
        kind: 'RENEW_CARD',
        daysLeft: 14,
        card: { id: 'crd_1', serial: '12345678' },
      }),
    ).toBe('Your card 12345678 expires in 14 days');
  });
  it('ok/the last two days read as words', () => {
    expect(expiryText(1)).toBe('expires tomorrow');
    expect(expiryText(0)).toBe('expires today');
  });
});
