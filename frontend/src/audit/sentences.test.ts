import { beforeAll, describe, expect, it } from 'vitest';

import i18n, { LANGUAGES } from '../i18n';
import { cancelVariables } from '../wizard/useOrderWizard';
import { AUDIT_ACTIONS, AUDIT_NS, LEGACY_CANCEL_REASON, actionLabel, auditSentence, type AuditFacts } from './sentences';

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

// The namespace is loaded on demand in the SPA; here it is loaded as the audit page would.
beforeAll(async () => {
  await i18n.loadLanguages([...LANGUAGES]);
  await i18n.loadNamespaces(AUDIT_NS);
  for (const lng of LANGUAGES) {
    expect(i18n.hasResourceBundle(lng, AUDIT_NS), `${lng}/${AUDIT_NS} loaded`).toBe(true);
  }
});

const en = () => i18n.getFixedT('en', AUDIT_NS);
const de = () => i18n.getFixedT('de', AUDIT_NS);

const lock: AuditFacts = {
  action: 'user.set_state',
  actorName: 'Ada Admin',
  actorKind: 'user',
  objectType: 'User',
  objectID: 'usr_1',
  objectLabel: 'bob',
  subjectName: 'bob',
  details: { from: 'ACTIVE', to: 'LOCKED', reason: 'left the company' },
};

const revoke: AuditFacts = {
  action: 'card.revoke',
  actorName: 'Ada Admin',
  actorKind: 'user',
  objectType: 'Card',
  objectID: 'crd_1',
  objectLabel: '12345678',
  subjectName: 'Bob Builder',
  details: { reason: 'LOST_OR_STOLEN', comment: 'laptop stolen' },
};

describe('audit sentences', () => {
  it('ok/every action the server writes is known', () => {
    const codes = serverActions();
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter((c) => !(AUDIT_ACTIONS as readonly string[]).includes(c))).toEqual([]);
  });

  // A missing key would show the key itself (or English in a German log) to a person.
  for (const lng of LANGUAGES) {
    it(`ok/every action has a sentence and a label in ${lng}`, () => {
      const missing = AUDIT_ACTIONS.flatMap((a) =>
        [`sentence.${a}`, `action.${a}`].filter((k) => !i18n.exists(k, { ns: AUDIT_NS, lng, fallbackLng: false })),
      );
      expect(missing).toEqual([]);
    });
  }

  it('ok/says who did what to whom, with the reason', () => {
    expect(auditSentence(lock, en())).toBe('Ada Admin locked bob: left the company');
    expect(auditSentence(revoke, en())).toBe('Ada Admin revoked Bob Builder’s card 12345678 (lost or stolen): laptop stolen');
  });

  it('ok/says it in German', () => {
    expect(auditSentence(lock, de())).toBe('Ada Admin hat bob gesperrt: left the company');
    expect(auditSentence(revoke, de())).toBe(
      'Ada Admin hat die Karte 12345678 von Bob Builder widerrufen (verloren oder gestohlen): laptop stolen',
    );
    expect(actionLabel('card.lock', de())).toBe('Karte gesperrt');
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
    const claim: AuditFacts = {
      action: 'order.claim',
      actorName: 'Alice Active',
      actorKind: 'bridge',
      objectType: 'Order',
      objectID: 'ord_x',
      subjectName: 'Alice Active',
    };
    const s = auditSentence(claim, en());
    expect(s).toBe('The Desktop App of Alice Active opened Alice Active’s order');
    expect(s).not.toMatch(/ord_|usr_|anonymous/);
    expect(auditSentence(claim, de())).toBe('Die Desktop-App von Alice Active hat den Auftrag von Alice Active geöffnet');
  });

  it('ok/names the Desktop App that holds a card by the card’s owner', () => {
    const changed: AuditFacts = {
      action: 'card.pin_changed',
      actorName: 'Alice Active',
      actorKind: 'card',
      objectType: 'Card',
      objectID: 'crd_x',
      objectLabel: '12345678',
      subjectName: 'Alice Active',
    };
    const s = auditSentence(changed, en());
    expect(s).toBe('The Desktop App of Alice Active changed the PIN of Alice Active’s card 12345678');
    expect(s).not.toMatch(/card:|crd_|anonymous|not signed in/);
    expect(auditSentence(changed, de())).toMatch(/^Die Desktop-App von Alice Active hat .*12345678/);
  });

  it('ok/own things and system actions', () => {
    const own: AuditFacts = {
      action: 'order.cancel',
      actorName: 'Bob',
      actorKind: 'user',
      objectType: 'Order',
      objectID: 'ord_1',
      subjectName: 'Bob',
      details: { comment: 'wrong laptop' },
    };
    expect(auditSentence(own, en())).toBe('Bob cancelled their order: wrong laptop');
    expect(auditSentence(own, de())).toBe('Bob hat den eigenen Auftrag abgebrochen: wrong laptop');
    // The wizard's Cancel sends no reason, and the English one it sent before is not shown.
    for (const details of [null, { reason: LEGACY_CANCEL_REASON }]) {
      expect(auditSentence({ ...own, details }, en())).toBe('Bob cancelled their order');
      expect(auditSentence({ ...own, details }, de())).toBe('Bob hat den eigenen Auftrag abgebrochen');
    }
    const expired: AuditFacts = { action: 'order.expire', actorName: '', actorKind: 'system', objectType: 'Order', objectID: 'o' };
    expect(auditSentence(expired, en())).toBe('An order expired unfinished');
    expect(auditSentence(expired, de())).toBe('Ein Auftrag ist unvollendet abgelaufen');
  });

  it('ok/the wizard cancels without a reason in any language', () => {
    expect(cancelVariables('ord_1')).toEqual({ orderId: 'ord_1' });
  });
});
