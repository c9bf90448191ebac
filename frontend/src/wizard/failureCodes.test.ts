import { afterEach, describe, expect, it } from 'vitest';

import i18n, { LANGUAGES, resources } from '../i18n';
import failureCodes from './failureCodes.json';
import { failureWords, personFailureWords } from './orderState';

/** own is the catalogue's words for a Desktop App code in lng, where failureWords looks. */
function own(lng: string, code: string): string | undefined {
  const wizard = resources[lng]?.wizard as { end?: { desktopApp?: Record<string, string> } } | undefined;
  const tpm = resources[lng]?.tpm as { reason?: Record<string, string> } | undefined;
  return wizard?.end?.desktopApp?.[code] ?? tpm?.reason?.[code];
}

// failureCodes.json lists every code the Desktop App can fail an order with
// (desktop-bridge/handoff FailureCodes, written by make generate; a Go test fails when it is
// out of date). Each needs words of its own in every language: a person and an operator read
// them, never the code.
describe('the Desktop App failure reasons in words', () => {
  afterEach(async () => {
    await i18n.changeLanguage('en');
  });

  it('ok/the list is there', () => {
    expect(failureCodes.codes.length).toBeGreaterThan(0);
    expect(failureCodes.codes).toContain('PIN_BLOCKED');
  });

  it.each(LANGUAGES)('ok/every code has its own words in %s', async (lng) => {
    await i18n.changeLanguage(lng);
    const unknown = i18n.t('wizard:end.desktopAppUnknown');
    for (const code of failureCodes.codes) {
      const words = own(lng, code);
      expect(words, `${lng}: no words for the Desktop App's ${code}`).toBeTruthy();
      expect(failureWords(`desktop-app:${code}`)).toBe(words);
      expect(personFailureWords(`desktop-app:${code}`)).toBe(words);
      expect(words).not.toBe(unknown);
      expect(words).not.toMatch(/\b[A-Z]{3,}_[A-Z_]+\b/);
      if (lng !== 'en') expect(words, `${lng}: ${code} has the English words`).not.toBe(own('en', code));
    }
  });

  it.each(LANGUAGES)('ok/the order pages never show a code (%s)', async (lng) => {
    await i18n.changeLanguage(lng);
    for (const reason of [
      'desktop-app:SOMETHING_NEWER',
      'desktop-app:',
      'desktop-app:not a code: a text',
      'the CA refused a certificate: UNAVAILABLE: The CA cannot be reached.',
    ]) {
      const words = failureWords(reason);
      expect(words, reason).not.toMatch(/desktop-app|UNAVAILABLE|SOMETHING_NEWER|CA refused/);
      expect(words).toBe(personFailureWords(reason));
    }
    expect(failureWords('the CA refused a certificate: INTERNAL')).toBe(i18n.t('wizard:end.caRefused'));
    // A text the Desktop App wrote for the operator stays for the operator.
    expect(failureWords('Desktop App: insert card: EOF')).toBe('Desktop App: insert card: EOF');
  });
});
