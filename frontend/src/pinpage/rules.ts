// The PIN policy in sentences: one per rule kind, the length in digits when only digits
// are allowed, and the same words for a rule in the list and in a refusal.
import type { TFunction } from 'i18next';

export type Rule = 'ALLOWED' | 'REQUIRED' | 'DISALLOWED' | '';

export interface Policy {
  minLength: number;
  maxLength: number;
  upper: Rule;
  lower: Rule;
  digits: Rule;
  special: Rule;
  blockList: string[] | null;
  maxRepeated: number;
  maxSequential: number;
  retryCount: number;
}

export function digitsOnly(p: Policy): boolean {
  return p.upper === 'DISALLOWED' && p.lower === 'DISALLOWED' && p.special === 'DISALLOWED';
}

function kind(p: Policy, t: TFunction): string {
  return t(digitsOnly(p) ? 'rule.kind.digits' : 'rule.kind.characters');
}

/** policyRules returns the rules a new PIN must meet; the retry count is not one of them. */
export function policyRules(p: Policy, t: TFunction): string[] {
  const k = kind(p, t);
  const out = [
    p.minLength === p.maxLength
      ? t('rule.lengthExact', { min: p.minLength, kind: k })
      : t('rule.lengthRange', { min: p.minLength, max: p.maxLength, kind: k }),
  ];
  const only = digitsOnly(p);
  if (!only) {
    if (p.digits === 'REQUIRED') out.push(t('rule.digitRequired'));
    if (p.upper === 'REQUIRED') out.push(t('rule.upperRequired'));
    if (p.lower === 'REQUIRED') out.push(t('rule.lowerRequired'));
    if (p.special === 'REQUIRED') out.push(t('rule.specialRequired'));
    if (p.upper === 'DISALLOWED' && p.lower === 'DISALLOWED') out.push(t('rule.noLetters'));
    else {
      if (p.upper === 'DISALLOWED') out.push(t('rule.noUpper'));
      if (p.lower === 'DISALLOWED') out.push(t('rule.noLower'));
    }
    if (p.digits === 'DISALLOWED') out.push(t('rule.noDigits'));
    if (p.special === 'DISALLOWED') out.push(t('rule.noSpecial'));
  }
  if (p.maxRepeated > 0) out.push(t('rule.repeated', { count: p.maxRepeated, kind: k }));
  if (p.maxSequential > 0) {
    const example = only ? '1234' : '1234, abcd';
    out.push(t('rule.sequential', { count: p.maxSequential, kind: k, example }));
  }
  if (p.blockList && p.blockList.length > 0) out.push(t('rule.blockList', { example: p.blockList[0] }));
  return out;
}

/** problemText words a refusal of the bridge from its code and the policy. */
export function problemText(code: string, tries: number | undefined, p: Policy | undefined, t: TFunction): string {
  const k = p ? kind(p, t) : t('rule.kind.characters');
  const key = `problem.${code}`;
  const params = {
    min: p?.minLength,
    max: p?.maxLength,
    kind: k,
    count: code === 'repeated' ? p?.maxRepeated : code === 'sequential' ? p?.maxSequential : tries,
  };
  return t(key, params);
}
