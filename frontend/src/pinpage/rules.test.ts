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
