import { describe, expect, it } from 'vitest';

import { formatDate, formatDateTime, formatNumber, formatRemaining } from './format';

describe('format', () => {
  const iso = '2026-03-04T05:06:07Z';

  it('ok/dates follow the language', () => {
    expect(formatDate(iso, 'en')).toBe('Mar 4, 2026');
    expect(formatDate(iso, 'de')).toBe('04.03.2026');
    expect(formatDateTime(iso, 'de')).toMatch(/^04\.03\.2026, \d\d:\d\d$/);
  });

  it('ok/numbers follow the language', () => {
    expect(formatNumber(12345.5, 'en')).toBe('12,345.5');
    expect(formatNumber(12345.5, 'de')).toBe('12.345,5');
  });

  it('ok/missing and broken dates', () => {
    expect(formatDate(null)).toBe('—');
    expect(formatDate('not a date')).toBe('not a date');
  });

  it('ok/countdown', () => {
    expect(formatRemaining(545_000)).toBe('9:05');
    expect(formatRemaining(0)).toBe('expired');
  });
});
