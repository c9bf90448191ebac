import { describe, expect, it } from 'vitest';
import { actionLabels, auditSentence, sentences } from './sentences';

/**
 * serverActions reads the audit action codes the server writes from its own source: every
 * quoted "<area>.<verb>" string of the areas that write audit events.
 */
function serverActions(): string[] {
  const files = import.meta.glob('../../../server/**/*.go', { query: '?raw', import: 'default', eager: true }) as Record<
    string,
    string
  >;
  const codes = new Set<string>();
  for (const [path, text] of Object.entries(files)) {
    if (path.endsWith('_test.go')) continue;
    for (const m of text.matchAll(/"((?:auth|card|certificate|order|user|script|audit|notice)\.[a-z_]+(?:\.[a-z_]+)*)"/g)) {
      if (m[1]) codes.add(m[1]);
    }
  }
  return [...codes].sort();
}

describe('audit sentences', () => {
  it('ok/every action the server writes has a sentence and a label', () => {
    const codes = serverActions();
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter((c) => !sentences[c])).toEqual([]);
    expect(codes.filter((c) => !actionLabels[c])).toEqual([]);
  });

  it('ok/says who did what to whom, with the reason', () => {
    expect(
      auditSentence({
        action: 'user.set_state',
        actorName: 'Ada Admin',
        actorKind: 'user',
        objectType: 'User',
        objectID: 'usr_1',
        objectLabel: 'bob',
        subjectName: 'bob',
        details: { from: 'ACTIVE', to: 'LOCKED', reason: 'left the company' },
      }),
    ).toBe('Ada Admin locked bob: left the company');
    expect(
      auditSentence({
        action: 'card.revoke',
        actorName: 'Ada Admin',
        actorKind: 'user',
        objectType: 'Card',
        objectID: 'crd_1',
        objectLabel: '12345678',
        subjectName: 'Bob Builder',
        details: { reason: 'LOST_OR_STOLEN', comment: 'laptop stolen' },
      }),
    ).toBe('Ada Admin revoked Bob Builder’s card 12345678 (lost or stolen): laptop stolen');
  });

  it('ok/expiry e-mails: the server, the day and the card', () => {
    expect(
      auditSentence({
        action: 'notice.failed',
        actorName: 'system',
        actorKind: 'system',
        objectType: 'Card',
        objectID: 'crd_1',
        objectLabel: '12345678',
        subjectName: 'Bob Builder',
        details: { serial: '12345678', days: 14, attempts: 5 },
      }),
    ).toMatch(/gave up sending the 14-day expiry e-mail for Bob Builder’s card 12345678 after 5 tries$/);
  });

  it('ok/names the Desktop App by the person it acts for, and no ids', () => {
    const s = auditSentence({
      action: 'order.claim',
      actorName: 'Alice Active',
      actorKind: 'bridge',
      objectType: 'Order',
      objectID: 'ord_x',
      subjectName: 'Alice Active',
    });
    expect(s).toBe('The Desktop App of Alice Active opened Alice Active’s order');
    expect(s).not.toMatch(/ord_|usr_|anonymous/);
  });
});
