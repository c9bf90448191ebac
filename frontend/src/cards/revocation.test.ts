import { describe, expect, it } from 'vitest';

import type { CrlReason } from '../gql/graphql';
import { reasonInWords, revocationChoices, revocationSummary } from './revocation';

const day = (iso: string) => iso.slice(0, 10);

describe('reasonInWords', () => {
  it.each([
    ['keyCompromise', 'lost or stolen'],
    ['superseded', 'replaced'],
    ['cessationOfOperation', 'no longer needed'],
    ['certificateHold', 'on hold'],
  ] as [CrlReason, string][])('ok/%s', (reason, want) => {
    expect(reasonInWords(reason)).toBe(want);
  });

  it('ok/no reason', () => {
    expect(reasonInWords(null)).toBeNull();
  });

  it('ok/never an enum name', () => {
    for (const r of ['keyCompromise', 'cACompromise', 'aACompromise', 'privilegeWithdrawn'] as CrlReason[]) {
      expect(reasonInWords(r)).not.toMatch(/[A-Z_]/);
    }
  });
});

describe('revocationSummary', () => {
  it('ok/the latest revocation, in words', () => {
    const certs = [
      { state: 'REVOKED', revokedAt: '2026-11-01T10:00:00Z', revocationReason: 'superseded' as CrlReason },
      { state: 'REVOKED', revokedAt: '2026-12-02T10:00:00Z', revocationReason: 'keyCompromise' as CrlReason },
      { state: 'VALID', revokedAt: null, revocationReason: null },
    ];
    expect(revocationSummary(certs, day)).toBe('Revoked on 2026-12-02 — lost or stolen');
  });

  it('ok/without a reason', () => {
    expect(revocationSummary([{ state: 'REVOKED', revokedAt: '2026-12-02T10:00:00Z' }], day)).toBe('Revoked on 2026-12-02');
  });

  it('ok/nothing revoked', () => {
    expect(revocationSummary([{ state: 'ON_HOLD', revokedAt: '2026-12-02T10:00:00Z' }], day)).toBeNull();
  });
});

describe('revocationChoices', () => {
  it('ok/one per reason a person can give', () => {
    expect(revocationChoices.map((c) => c.value)).toEqual(['LOST_OR_STOLEN', 'REPLACED', 'NO_LONGER_NEEDED']);
  });
});
