import { describe, expect, it } from 'vitest';

import { shownActions } from './CardActions';

describe('shownActions', () => {
  const p = (name: string, available: boolean, unavailableReason: string | null, runningOrder: { id: string } | null = null) =>
    ({ name, available, unavailableReason, runningOrder }) as Parameters<typeof shownActions>[0][number] & { name: string };

  it('ok/available and blocked-for-now are shown, ruled out by the card state is hidden', () => {
    const list = [
      p('change-pin', true, null),
      p('reset-pin', false, 'ORDER_RUNNING'),
      p('unlock', false, 'CARD_NOT_IN_REQUIRED_STATE'),
      p('lock', false, 'NOT_PERMITTED'),
    ];
    expect(shownActions(list).map((x) => (x as { name: string }).name)).toEqual(['change-pin', 'reset-pin', 'lock']);
  });
  it('ok/unblock offline shows only where the option script enables it', () => {
    const names = (list: ReturnType<typeof p>[]) => shownActions(list).map((x) => (x as { name: string }).name);
    expect(names([p('unblock-pin-offline', false, 'NOT_PERMITTED')])).toEqual([]);
    expect(names([p('unblock-pin-offline', true, null)])).toEqual(['unblock-pin-offline']);
    expect(names([p('unblock-pin-offline', false, 'ORDER_RUNNING')])).toEqual(['unblock-pin-offline']);
  });
  it('ok/a running order is shown whatever the card state says', () => {
    const list = [p('change-pin', false, 'CARD_NOT_IN_REQUIRED_STATE', { id: 'o1' })];
    expect(shownActions(list)).toHaveLength(1);
  });
});
