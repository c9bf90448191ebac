import { afterEach, describe, expect, it } from 'vitest';

import i18n from '../i18n';
import { startedNotice } from './notice';

afterEach(async () => {
  await i18n.changeLanguage('en');
});

describe('startedNotice', () => {
  const lock = { process: 'lock-virtual-smart-card', serial: '0042' };
  it.each([
    ['COMPLETED', 'Card 0042 is locked.', true],
    ['CANCELLED', 'Lock card for card 0042 was not completed.', true],
    ['FAILED', 'Lock card for card 0042 was not completed.', true],
    ['EXPIRED', 'Lock card for card 0042 was not completed.', true],
    ['STARTED', 'Lock card for card 0042 has started — continue in the wizard.', false],
  ] as const)('ok/%s', (state, text, final) => {
    expect(startedNotice(lock, state)).toMatchObject({ text, final });
  });
  it('ok/a process without its own words says it is done by name', () => {
    expect(startedNotice({ process: 'some-new-process', serial: '7' }, 'COMPLETED').text).toBe('Some new process for card 7 is done.');
  });
  it('ok/every process has its own words for done, in German too', async () => {
    await i18n.changeLanguage('de');
    expect(startedNotice(lock, 'COMPLETED').text).toBe('Karte 0042 ist gesperrt.');
    expect(startedNotice({ process: 'change-pin', serial: '0042' }, 'COMPLETED').text).toBe('Die PIN von Karte 0042 ist geändert.');
  });
});
