import { afterEach, describe, expect, it } from 'vitest';

import type { CrlReason } from '../gql/graphql';
import i18n from '../i18n';
import { reasonInWords, revocationChoices, revocationSummary } from './revocation';

const day = (iso: string) => iso.slice(0, 10);

afterEach(async () => {
  await i18n.changeLanguage('en');
});

describe('reasonInWords', () => {
  it.each([
    ['keyCompromise', 'lost or stolen'],
    ['superseded', 'replaced'],
    ['cessationOfOperation', 'no longer needed'],
    ['certificateHold', 'on hold'],
  ] as [CrlReason, string][])('ok/%s', async (reason, want) => {
    await i18n.changeLanguage('en');
    expect(reasonInWords(reason)).toBe(want);
  });

  it('ok/no reason', () => {
    expect(reasonInWords(null)).toBeNull();
  });

  it('ok/an unknown reason says nothing rather than its name', () => {
    expect(reasonInWords('somethingNew' as CrlReason)).toBeNull();
  });

  it('ok/never an enum name, in any language', async () => {
    for (const lng of ['en', 'de']) {
      await i18n.changeLanguage(lng);
      for (const r of ['keyCompromise', 'cACompromise', 'aACompromise', 'privilegeWithdrawn', 'unspecified'] as CrlReason[]) {
        const words = reasonInWords(r);
        // Neither the key (reason.cACompromise) nor the enum's name shows.
        expect(words).not.toMatch(/reason\.|_|[a-z][A-Z]/);
        expect(words).not.toContain(r);
      }
    }
  });

  it('ok/German follows the language switch', async () => {
    await i18n.changeLanguage('de');
    expect(reasonInWords('keyCompromise')).toBe('verloren oder gestohlen');
    await i18n.changeLanguage('en');
    expect(reasonInWords('keyCompromise')).toBe('lost or stolen');
  });
});

describe('revocationSummary', () => {
  const certs = [
    { state: 'REVOKED', revokedAt: '2026-11-01T10:00:00Z', revocationReason: 'superseded' as CrlReason },
    { state: 'REVOKED', revokedAt: '2026-12-02T10:00:00Z', revocationReason: 'keyCompromise' as CrlReason },
    { state: 'VALID', revokedAt: null, revocationReason: null },
  ];

  it('ok/the latest revocation, in words', async () => {
    await i18n.changeLanguage('en');
    expect(revocationSummary(certs, day)).toBe('Revoked on 2026-12-02 — lost or stolen');
  });

  it('ok/the latest revocation, in German', async () => {
    await i18n.changeLanguage('de');
    expect(revocationSummary(certs, day)).toBe('Widerrufen am 2026-12-02 — verloren oder gestohlen');
  });

  it('ok/without a reason', async () => {
    await i18n.changeLanguage('en');
    expect(revocationSummary([{ state: 'REVOKED', revokedAt: '2026-12-02T10:00:00Z' }], day)).toBe('Revoked on 2026-12-02');
  });

  it('ok/nothing revoked', () => {
    expect(revocationSummary([{ state: 'ON_HOLD', revokedAt: '2026-12-02T10:00:00Z' }], day)).toBeNull();
  });
});

describe('revocationChoices', () => {
  it('ok/one per reason a person can give', () => {
    expect(revocationChoices().map((c) => c.value)).toEqual(['LOST_OR_STOLEN', 'REPLACED', 'NO_LONGER_NEEDED']);
  });

  it('ok/in the current language, every one with words', async () => {
    await i18n.changeLanguage('en');
    expect(revocationChoices()[0]?.label).toBe('Lost or stolen');
    await i18n.changeLanguage('de');
    const de = revocationChoices();
    expect(de.map((c) => c.label)).toEqual(['Verloren oder gestohlen', 'Ersetzt', 'Nicht mehr benötigt']);
    for (const c of de) expect(c.description).not.toMatch(/^choice\./);
  });
});
