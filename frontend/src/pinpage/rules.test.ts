import { describe, expect, it } from 'vitest';

import de from '../i18n/locales/de/pinpage.json';
import en from '../i18n/locales/en/pinpage.json';
import { createI18n } from './i18n';
import { type Policy, policyRules, problemText } from './rules';

const digits: Policy = {
  minLength: 6, maxLength: 8, upper: 'DISALLOWED', lower: 'DISALLOWED', digits: 'REQUIRED', special: 'DISALLOWED',
  blockList: ['123456'], maxRepeated: 3, maxSequential: 4, retryCount: 3,
};

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('pinpage catalogues', () => {
  it('have the same keys in English and German', () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
  });
  it('leave no text empty in German where English has some', () => {
    const flat = (o: object) => Object.fromEntries(keys(o).map((k) => [k, k.split('.').reduce<unknown>((a, p) => (a as Record<string, unknown>)[p], o)]));
    const e = flat(en), d = flat(de);
    for (const k of Object.keys(e)) expect(Boolean(d[k]), k).toBe(Boolean(e[k]));
  });
});

describe('policyRules', () => {
  it('says a digits-only policy in one sentence per rule kind, in English', () => {
    const t = createI18n('en').t;
    expect(policyRules(digits, t)).toEqual([
      '6 to 8 digits',
      'No digits more than 3 times in a row',
      'No more than 4 sequential digits (like 1234)',
      'Not a common PIN such as 123456',
    ]);
  });
  it('says an exact length without "8 to 8", in German', () => {
    const t = createI18n('de').t;
    expect(policyRules({ ...digits, minLength: 8, maxSequential: 0, maxRepeated: 0, blockList: [] }, t)).toEqual(['8 Ziffern']);
  });
  it('names characters and the classes when letters are allowed', () => {
    const t = createI18n('en').t;
    const rules = policyRules({ ...digits, upper: 'ALLOWED', lower: 'REQUIRED', special: 'ALLOWED', maxSequential: 0, maxRepeated: 0, blockList: [] }, t);
    expect(rules).toEqual(['6 to 8 characters', 'At least one digit', 'At least one lower-case letter']);
  });
  it('words a refusal like the rule', () => {
    const t = createI18n('en').t;
    expect(problemText('sequential', undefined, digits, t)).toBe('The PIN has more than 4 sequential digits.');
    expect(problemText('max_length', undefined, digits, t)).toBe('The PIN is too long: it may have at most 8 digits.');
    expect(problemText('current_pin_wrong', 2, digits, t)).toBe('The current PIN is wrong. The card allows 2 more tries.');
    expect(createI18n('de').t('problem.pin_mismatch')).not.toBe(t('problem.pin_mismatch'));
  });
});

// Each shape a policy can take, in both languages: one line per kind of rule, "digits" when
// only digits are allowed, no "8 to 8", examples the policy allows, no retry count.
describe('policyRules, every shape', () => {
  const bare = { ...digits, maxSequential: 0, maxRepeated: 0, blockList: [] };
  it.each([
    ['en', digits, ['6 to 8 digits', 'No digits more than 3 times in a row', 'No more than 4 sequential digits (like 1234)', 'Not a common PIN such as 123456']],
    ['de', digits, ['6 bis 8 Ziffern', 'Keine Ziffern öfter als 3-mal hintereinander', 'Nicht mehr als 4 aufeinanderfolgende Ziffern (wie 1234)', 'Keine häufige PIN wie 123456']],
    ['en', { ...bare, minLength: 8 }, ['8 digits']],
    ['en', { ...bare, digits: 'ALLOWED' as const }, ['6 to 8 digits']],
    ['de', { ...bare, upper: 'REQUIRED' as const, lower: 'ALLOWED' as const, special: 'DISALLOWED' as const },
      ['6 bis 8 Zeichen', 'Mindestens eine Ziffer', 'Mindestens einen Großbuchstaben', 'Keine Sonderzeichen']],
    ['en', { ...bare, upper: 'DISALLOWED' as const, lower: 'ALLOWED' as const, digits: 'DISALLOWED' as const, special: 'ALLOWED' as const },
      ['6 to 8 characters', 'No upper-case letters', 'No digits']],
    ['en', { ...bare, upper: 'ALLOWED' as const, lower: 'ALLOWED' as const, special: 'REQUIRED' as const, maxSequential: 3 },
      ['6 to 8 characters', 'At least one digit', 'At least one special character', 'No more than 3 sequential characters (like 1234, abcd)']],
    ['de', { ...bare, minLength: 6, maxLength: 6, upper: 'DISALLOWED' as const, lower: 'DISALLOWED' as const, digits: 'ALLOWED' as const, special: 'ALLOWED' as const },
      ['6 Zeichen', 'Keine Buchstaben']],
  ])('ok/%s %o', (lng, policy, want) => {
    const rules = policyRules(policy as Policy, createI18n(lng).t);
    expect(rules).toEqual(want);
    expect(rules.join(' ')).not.toMatch(/dcba|8 to 8|8 bis 8|wrong PINs|falschen PINs/);
  });

  it('ok/a refusal is worded like its rule, in German too', () => {
    const t = createI18n('de').t;
    expect(problemText('sequential', undefined, digits, t)).toBe('Die PIN hat mehr als 4 aufeinanderfolgende Ziffern.');
    expect(policyRules(digits, t)).toContain('Nicht mehr als 4 aufeinanderfolgende Ziffern (wie 1234)');
    expect(problemText('max_length', undefined, { ...digits, minLength: 8 }, t)).toBe('Die PIN ist zu lang: Sie darf höchstens 8 Ziffern haben.');
  });

  it('ok/every refusal code has words in both languages, never the code', () => {
    const codes = Object.keys(en.problem).filter((k) => k !== 'heading' && k !== 'tooLongTyped');
    for (const lng of ['en', 'de']) {
      const t = createI18n(lng).t;
      for (const c of codes) {
        const w = problemText(c, 2, digits, t);
        expect(w, `${lng}/${c}`).not.toBe(`problem.${c}`);
        expect(w, `${lng}/${c}`).not.toMatch(/{{|}}/);
      }
    }
  });
});
