/**
 * The audit log in people's words: one sentence per action code the server writes. The
 * server stores codes and parameters (server/audit); the i18next namespace "audit"
 * (i18n/locales/<language>/audit.json, loaded only when a page asks for it) holds the words,
 * and this file fills them in. German needs its nouns in a case (the card "die Karte", "der
 * Karte"; the order "ein/einen/einem Auftrag"), so the sentences ask for the phrase in the
 * case they need: card/cardOf, orderNom/orderAcc/orderDat. sentences.test.ts fails when the
 * server writes an action that has no sentence or label in a language.
 */
import type { TFunction } from 'i18next';

import i18n from '../i18n';

/** AUDIT_NS is the namespace of the audit log's words. */
export const AUDIT_NS = 'audit';

/** What a sentence is made of: names resolved by the server, and the event's details. */
export interface AuditFacts {
  action: string;
  actorName: string;
  actorKind: string;
  objectType: string;
  objectID: string;
  objectLabel?: string | null;
  subjectName?: string | null;
  details?: Record<string, unknown> | null;
}

/** AUDIT_ACTIONS are the action codes the server writes, each with a sentence and a label. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.logout',
  'user.set_state',
  'user.end_sessions',
  'user.sign_out_everywhere',
  'card.lock',
  'card.unlock',
  'card.revoke',
  'card.delete',
  'card.purge',
  'card.renew',
  'card.replace.supersede',
  'card.replace.revoke',
  'card.pin_changed',
  'card.pin_change_failed',
  'card.pin_reset',
  'card.pin_state_reported',
  'card.keys_repaired',
  'card.pin_unblock_offline',
  'card.puk_released',
  'certificate.issue',
  'order.start',
  'order.next',
  'order.claim',
  'order.bridge_step',
  'order.creating_card',
  'order.card_ready',
  'order.issuing',
  'order.cancel',
  'order.expire',
  'order.fail',
  'order.pin_changed',
  'order.puk_released',
  'order.puk_confirmed',
  'order.renew_handoff',
  'order.unblock_response',
  'script.create',
  'script.update',
  'script.revert',
  'audit.export',
  'notice.queued',
  'notice.sent',
  'notice.retry',
  'notice.failed',
] as const;

function auditT(t?: TFunction): TFunction {
  return t ?? i18n.getFixedT(null, AUDIT_NS);
}

/**
 * actorWords names who acted: the Desktop App acts for its order's owner ("bridge") or, when
 * it proved it holds a card, for the card's owner ("card").
 */
export function actorWords(f: Pick<AuditFacts, 'actorName' | 'actorKind'>, t?: TFunction): string {
  const tt = auditT(t);
  switch (f.actorKind) {
    case 'bridge':
    case 'card':
      return tt('actor.bridge', { name: f.actorName });
    case 'system':
      return tt('actor.system');
    case 'anonymous':
      return tt('actor.anonymous');
    default:
      return f.actorName || tt('actor.somebody');
  }
}

/** actionLabel names one kind of event, for the action filter. */
export function actionLabel(action: string, t?: TFunction): string {
  return auditT(t)(`action.${action}`, { defaultValue: action });
}

/** LEGACY_CANCEL_REASON is what the wizard's Cancel sent as its reason before it sent none. */
export const LEGACY_CANCEL_REASON = 'Cancelled by the user in Self-Service.';

/** auditSentence is the event in one sentence, in the language of t (the SPA's by default). */
export function auditSentence(f: AuditFacts, t?: TFunction): string {
  const tt = auditT(t);
  const detail = (key: string) => {
    const v = f.details?.[key];
    return v === undefined || v === null ? '' : String(v);
  };
  let reason = detail('reason') && f.action !== 'card.revoke' ? detail('reason') : detail('comment');
  // Self-Service once sent this English sentence with every cancel; the sentence says it already.
  if (reason === LEGACY_CANCEL_REASON) reason = '';
  // Whose card or order: none named, the actor's own, or someone else's.
  const mine = f.subjectName && f.subjectName === f.actorName && f.actorKind !== 'bridge' && f.actorKind !== 'card';
  const whose = f.subjectName ? (mine ? 'mine' : 'other') : undefined;
  const owned = (key: string, extra: Record<string, string> = {}) =>
    tt(key, { context: whose, owner: f.subjectName ?? '', ...extra }).trim();
  const serial = f.objectLabel || detail('serial');
  const to = detail('to');
  const revokeReason = detail('reason') ? tt(`revokeReason.${detail('reason')}`, { defaultValue: '' }) : '';
  const values = {
    actor: actorWords(f, tt),
    object: f.objectType === 'Script' ? f.objectID : (f.objectLabel ?? ''),
    person: f.objectLabel || tt('person.unknown'),
    subject: f.subjectName ?? '',
    card: owned('card.acc', { serial }),
    cardOf: owned('card.gen', { serial }),
    orderNom: owned('order.nom'),
    orderAcc: owned('order.acc'),
    orderDat: owned('order.dat'),
    process: tt(`process.${detail('process') || 'unknown'}`, { defaultValue: tt('process.unknown') }),
    state: tt(`personState.${to}`, { defaultValue: to }),
    revokeReason: revokeReason ? ` (${revokeReason})` : '',
    version: detail('version'),
    days: detail('days'),
    attempts: detail('attempts'),
    // "for bob" when someone started a process for another person (the operator console).
    forWhom: f.subjectName && whose === 'other' ? tt('forWhom', { name: f.subjectName }) : '',
    count: Number(detail('sessions_ended') || 0),
    because: reason ? `: ${reason}` : '',
    action: f.action,
  };
  // Variants of a sentence, picked with i18next's context: a person's new state, a lock that
  // followed its owner's, a certificate issued to someone.
  let context: string | undefined;
  if (f.action === 'user.set_state') context = to || undefined;
  if (f.action === 'card.lock' && detail('cascade')) context = 'cascade';
  const known = (AUDIT_ACTIONS as readonly string[]).includes(f.action);
  const key = f.action === 'certificate.issue' && f.subjectName ? 'sentence.certificate.issue_to' : `sentence.${f.action}`;
  const s = known ? tt(key, { ...values, context }) : tt('sentence.unknown', values);
  // The product's name stays lower case at the start of a sentence.
  return s.startsWith('vscard') ? s : s.charAt(0).toUpperCase() + s.slice(1);
}
