import { describe, expect, it } from 'vitest';

import type { OrderState } from '../gql/graphql';
import {
  canCancel,
  canProceed,
  endMessage,
  mergeOrder,
  newerOrder,
  phaseIndex,
  phaseOf,
  progressIndex,
  PROGRESS,
  stepTime,
} from './orderState';
import { flowOf } from './flows';

const all: OrderState[] = [
  'STARTED',
  'AWAITING_DESKTOP_APP',
  'DESKTOP_APP_CONNECTED',
  'CREATING_CARD',
  'ISSUING_CERTIFICATES',
  'CARD_READY',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'EXPIRED',
];

describe('phaseOf', () => {
  it.each([
    ['STARTED', 'intro'],
    ['AWAITING_DESKTOP_APP', 'desktop'],
    ['DESKTOP_APP_CONNECTED', 'desktop'],
    ['CREATING_CARD', 'desktop'],
    ['ISSUING_CERTIFICATES', 'desktop'],
    ['CARD_READY', 'review'],
    ['COMPLETED', 'done'],
    ['CANCELLED', 'ended'],
    ['FAILED', 'ended'],
    ['EXPIRED', 'ended'],
  ] as const)('ok/%s is %s', (state, phase) => {
    expect(phaseOf(state)).toBe(phase);
  });

  it('ok/phase index grows along the happy path', () => {
    const happy = all.slice(0, 7).map((s) => phaseIndex(s));
    expect(happy).toEqual([...happy].sort((a, b) => a - b));
    expect(phaseIndex('CANCELLED')).toBe(-1);
  });
});

describe('progressIndex', () => {
  it.each([
    ['STARTED', 0],
    ['AWAITING_DESKTOP_APP', 0],
    ['DESKTOP_APP_CONNECTED', 0],
    ['CREATING_CARD', 1],
    ['ISSUING_CERTIFICATES', 2],
    ['CARD_READY', PROGRESS.length],
    ['COMPLETED', PROGRESS.length],
  ] as const)('ok/%s is at step %i', (state, index) => {
    expect(progressIndex(state)).toBe(index);
  });

  it('ok/the current step is the one of the current state', () => {
    for (const state of ['CREATING_CARD', 'ISSUING_CERTIFICATES'] as const) {
      expect(PROGRESS[progressIndex(state)]?.state).toBe(state);
    }
  });
});

describe('actions', () => {
  it('ok/cancel in every running state, never after the end', () => {
    expect(all.filter(canCancel)).toEqual(all.slice(0, 6));
  });
  it('ok/next only at the start and when the card is ready', () => {
    expect(all.filter((s) => canProceed(s))).toEqual(['STARTED', 'CARD_READY']);
  });
});

describe('stepTime', () => {
  const steps = [
    { state: 'STARTED' as const, at: '2026-01-01T10:00:00Z' },
    { state: 'AWAITING_DESKTOP_APP' as const, at: '2026-01-01T10:01:00Z' },
    { state: 'AWAITING_DESKTOP_APP' as const, at: '2026-01-01T10:05:00Z' },
  ];
  it('ok/last entry of a state wins', () => {
    expect(stepTime(steps, 'AWAITING_DESKTOP_APP')).toBe('2026-01-01T10:05:00Z');
  });
  it('ok/undefined for a state not reached', () => {
    expect(stepTime(steps, 'CARD_READY')).toBeUndefined();
  });
});

describe('newerOrder', () => {
  const base = { id: 'o1', state: 'STARTED' as OrderState, version: 1 };
  const later = { id: 'o1', state: 'AWAITING_DESKTOP_APP' as OrderState, version: 2 };
  it('ok/keeps the higher version whatever arrives last', () => {
    expect(newerOrder(later, base)).toBe(later);
    expect(newerOrder(base, later)).toBe(later);
  });
  it('ok/an older version never overwrites a newer one, whatever else it says', () => {
    // Snapshots carry no other reliable clock: an event that was delayed can list more
    // steps or a later updatedAt (written by another server's clock) and still be older.
    const newer = { ...later, version: 7, steps: [{ state: 'CARD_READY' as OrderState, at: '2026-01-01T10:00:00Z' }] };
    const delayed = {
      ...base,
      version: 6,
      steps: [...newer.steps, { state: 'CARD_READY' as OrderState, at: '2026-01-01T11:00:00Z' }],
    };
    expect(newerOrder(newer, delayed)).toBe(newer);
  });
  it('ok/the same version seen again is taken as it comes', () => {
    const again = { ...later, card: { serial: 'VC1' } };
    expect(newerOrder<typeof again>({ ...later, card: { serial: '' } }, again)).toBe(again);
  });
  it('ok/first snapshot and other orders are taken as they come', () => {
    expect(newerOrder(undefined, base)).toBe(base);
    expect(newerOrder(base, undefined)).toBe(base);
    const other = { ...later, id: 'o2', version: 0 };
    expect(newerOrder(later, other)).toBe(other);
  });
  it('ok/a run of events in any order ends at the newest', () => {
    const events = [3, 1, 5, 2, 4].map((version) => ({ id: 'o1', state: 'STARTED' as OrderState, version }));
    const last = events.reduce<(typeof events)[number] | undefined>((cur, ev) => newerOrder(cur, ev), undefined);
    expect(last?.version).toBe(5);
  });
});

describe('endMessage', () => {
  it('ok/a failure reason in words is part of the message; a text for operators is not', () => {
    expect(endMessage('FAILED', 'desktop-app:PIN_BLOCKED')?.message).toMatch(/PIN is blocked/);
    const raw = endMessage('FAILED', 'Desktop App: wait for pcscd to power the card on in Virtual PCD 00 00 (is pcscd running with the vpcd driver?): EOF')?.message ?? '';
    expect(raw).toMatch(/^The Desktop App could not finish/);
    expect(raw).not.toMatch(/pcscd|vpcd|Virtual PCD|EOF/);
    expect(endMessage('FAILED', 'the CA refused a certificate: INTERNAL')?.message).toMatch(/certificate authority did not issue/);
  });
  it('ok/a TPM refusal says why, in the words about TPMs', () => {
    const refused = endMessage('FAILED', 'desktop-app:TPM_EVIDENCE_MISSING')?.message ?? '';
    expect(refused).toMatch(/^Your organisation requires the card's keys to be in the computer's TPM/);
    expect(refused).not.toMatch(/TPM_EVIDENCE_MISSING|desktop-app/);
    expect(endMessage('FAILED', 'desktop-app:TPM_SOMETHING_NEW')?.message).toMatch(/^The Desktop App could not finish/);
  });
  it('ok/no message for running or completed orders', () => {
    expect(endMessage('CARD_READY')).toBeUndefined();
    expect(endMessage('COMPLETED')).toBeUndefined();
  });
});

describe('mergeOrder', () => {
  const full = {
    id: 'o1',
    state: 'CARD_READY' as OrderState,
    version: 5,
    card: { serial: 'VC1' },
  };
  it('ok/keeps the card the mutation did not select', () => {
    const core = { id: 'o1', state: 'COMPLETED' as OrderState, version: 6 };
    expect(mergeOrder(full, core)).toEqual({ ...core, card: { serial: 'VC1' } });
  });
  it('ok/an older answer changes nothing', () => {
    const stale = { id: 'o1', state: 'STARTED' as OrderState, version: 4 };
    expect(mergeOrder(full, stale)).toBe(full);
  });
  it('ok/an answer of the same version keeps the card and takes the answer', () => {
    const same = { id: 'o1', state: 'CARD_READY' as OrderState, version: 5 };
    expect(mergeOrder(full, same)).toEqual(full);
  });
  it('ok/nothing to merge into before the first event', () => {
    expect(mergeOrder(undefined, full)).toBeUndefined();
  });
});

describe('a process on a card (change-pin)', () => {
  const flow = flowOf('change-pin');
  it.each([
    ['STARTED', 'intro'],
    ['AWAITING_DESKTOP_APP', 'desktop'],
    ['DESKTOP_APP_CONNECTED', 'desktop'],
    ['COMPLETED', 'done'],
    ['FAILED', 'ended'],
  ] as const)('ok/%s is %s', (state, phase) => {
    expect(phaseOf(state, flow)).toBe(phase);
  });
  it('ok/next only at the start: the Desktop App finishes the order', () => {
    expect(all.filter((s) => canProceed(s, flow))).toEqual(['STARTED']);
  });
  it('ok/progress follows the Desktop App to the end', () => {
    expect(progressIndex('AWAITING_DESKTOP_APP', flow)).toBe(0);
    expect(progressIndex('DESKTOP_APP_CONNECTED', flow)).toBe(0);
    expect(progressIndex('COMPLETED', flow)).toBe(flow.progress.length);
    expect(phaseIndex('COMPLETED', flow, flow.phases)).toBe(flow.phases.length);
  });
  it('ok/a failure says what the Desktop App said, and nothing about revoking', () => {
    const msg = endMessage('FAILED', 'desktop-app:PIN_BLOCKED', flow.end);
    expect(msg?.title).toBe('The PIN was not changed');
    expect(msg?.message).toMatch(/^The card's PIN is blocked/);
    expect(msg?.message).not.toMatch(/revoked/);
    expect(endMessage('FAILED', null, flow.end)?.message).toBe('Nothing was changed on your card.');
    // The Desktop App sends a code; the portal has the words, and never shows the code.
    const coded = endMessage('FAILED', 'desktop-app:PIN_BLOCKED', flow.end)?.message ?? '';
    expect(coded).toMatch(/Reset PIN/);
    expect(coded).not.toMatch(/PIN_BLOCKED|desktop-app/);
    expect(endMessage('FAILED', 'desktop-app:SOMETHING_NEW', flow.end)?.message).not.toMatch(/SOMETHING_NEW/);
    expect(endMessage('EXPIRED', null, flow.end)?.message).not.toContain('revoked');
  });
  it('ok/a process the portal has no flow for gets the generic card flow', () => {
    expect(canProceed('STARTED', flowOf('some-new-process'))).toBe(true);
    expect(flowOf('some-new-process').again).toBe('/cards');
  });
});
