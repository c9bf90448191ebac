import { afterEach, describe, expect, it } from 'vitest';

import i18n from '../i18n';
import { endMessage, failureWords, undoneOf } from './orderState';
import { flowOf } from './flows';

const getCard = flowOf('get-virtual-smart-card');

describe('what an ending took back, as the server says', () => {
  afterEach(async () => {
    await i18n.changeLanguage('en');
  });

  it.each([
    [{ cardDeleted: true, certificatesRevoked: 3 }, 'The card the Desktop App had started was deleted, and the 3 certificates issued for it were revoked.'],
    [{ cardDeleted: true, certificatesRevoked: 1 }, 'The card the Desktop App had started was deleted, and the certificate issued for it was revoked.'],
    [{ cardDeleted: true, certificatesRevoked: 0 }, 'The card the Desktop App had started was deleted; no certificate had been issued for it.'],
    [{ cardDeleted: false, certificatesRevoked: 0 }, 'Nothing had been made for this order yet, so there was nothing to take back.'],
  ])('ok/a cancel says %o in English', async (undone, words) => {
    await i18n.changeLanguage('en');
    const msg = endMessage('CANCELLED', null, getCard.end, undone);
    expect(msg?.title).toBe('The order was cancelled');
    expect(msg?.message).toBe(`${words} You can start again at any time.`);
    expect(msg?.message).not.toMatch(/Nothing was left behind|no card was created/);
  });

  it('ok/German, with the count', async () => {
    await i18n.changeLanguage('de');
    const msg = endMessage('CANCELLED', null, getCard.end, { cardDeleted: true, certificatesRevoked: 2 });
    expect(msg?.title).toBe('Der Auftrag wurde abgebrochen');
    expect(msg?.message).toBe(
      'Die Karte, die die Desktop-App begonnen hatte, wurde gelöscht, und die 2 für sie ausgestellten Zertifikate wurden widerrufen. Sie können jederzeit neu beginnen.',
    );
    expect(endMessage('EXPIRED', null, getCard.end, { cardDeleted: false, certificatesRevoked: 0 })?.message).toBe(
      'Er hat zu lange in einem Schritt gewartet. Für diesen Auftrag war noch nichts angelegt, daher war nichts zurückzunehmen.',
    );
    expect(failureWords('desktop-app:PIN_BLOCKED')).toMatch(/PIN zurücksetzen/);
    expect(failureWords('desktop-app:SOMETHING_NEW')).toMatch(/Desktop-App konnte nicht/);
    expect(failureWords('desktop-app:TPM_EVIDENCE_MISSING')).toMatch(/^Ihre Organisation verlangt, dass die Schlüssel der Karte im TPM/);
  });

  it('ok/a failure names the Desktop App\'s reason, then what was taken back', () => {
    const msg = endMessage('FAILED', 'desktop-app:CANCELLED_IN_DESKTOP_APP', getCard.end, { cardDeleted: true, certificatesRevoked: 0 });
    expect(msg?.message).toBe('Cancelled in the Desktop App. The card the Desktop App had started was deleted; no certificate had been issued for it.');
  });

  it('ok/a card process keeps its own words: it undoes nothing', () => {
    const flow = flowOf('change-pin');
    expect(endMessage('CANCELLED', null, flow.end, { cardDeleted: false, certificatesRevoked: 0 })?.message).toBe(flow.end.cancelled);
  });

  it('ok/only the ending step counts', () => {
    const undone = { cardDeleted: true, certificatesRevoked: 1 };
    expect(undoneOf([{ state: 'STARTED' }, { state: 'CANCELLED', undone }], 'CANCELLED')).toBe(undone);
    expect(undoneOf([{ state: 'STARTED' }, { state: 'CANCELLED' }], 'CANCELLED')).toBeUndefined();
    expect(undoneOf([{ state: 'STARTED', undone }], 'CANCELLED')).toBeUndefined();
  });
});
