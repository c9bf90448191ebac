/**
 * The audit log in people's words: one sentence per action code the server writes. The
 * server stores codes and parameters (server/audit); this table, one place to read and
 * translate, turns them into sentences. sentences.test.ts fails when the server writes an
 * action that has none.
 */

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

type Words = (f: AuditFacts, w: Helpers) => string;

interface Helpers {
  /** who acted: a person's name, "the Desktop App of …", "vscard" for the server itself. */
  actor: string;
  /** the card, certificate or person the event is about. */
  object: string;
  /** "bob's " when the object belongs to someone other than the actor, else "their " or "". */
  whose: string;
  detail: (key: string) => string;
  /** ": <reason>" when the event has a reason or comment. */
  because: string;
}

const personStates: Record<string, string> = {
  ACTIVE: 'active',
  LOCKED: 'locked',
  INACTIVE: 'inactive',
  REGISTERED: 'registered',
};

const revokeReasons: Record<string, string> = {
  LOST_OR_STOLEN: 'lost or stolen',
  BROKEN: 'broken',
  NO_LONGER_NEEDED: 'no longer needed',
  LEFT_ORGANISATION: 'left the organisation',
};

function card(_: AuditFacts, w: Helpers): string {
  return `${w.whose}card ${w.object || w.detail('serial')}`.trim();
}

/** sentences holds one sentence per action code, in English. */
export const sentences: Record<string, Words> = {
  'auth.login': (_, w) => `${w.actor} signed in`,
  'auth.logout': (_, w) => `${w.actor} signed out`,
  'user.set_state': (_, w) => {
    const to = w.detail('to');
    const verb: Record<string, string> = {
      LOCKED: 'locked',
      ACTIVE: 'activated',
      INACTIVE: 'deactivated',
      REGISTERED: 'set back to registered',
    };
    return `${w.actor} ${verb[to] ?? `changed the state of`} ${w.object || 'a person'}${verb[to] ? '' : ` to ${personStates[to] ?? to}`}${w.because}`;
  },
  'user.end_sessions': (_, w) => `${w.actor} ended the sessions of ${w.object || 'a person'} (${w.detail('sessions_ended') || 0})${w.because}`,
  'user.sign_out_everywhere': (_, w) => `${w.actor} signed out everywhere`,
  'card.lock': (f, w) =>
    w.detail('cascade') ? `${card(f, w)} was locked with its owner`.replace(/^./, (c) => c.toUpperCase()) : `${w.actor} locked ${card(f, w)}${w.because}`,
  'card.unlock': (f, w) => `${w.actor} unlocked ${card(f, w)}${w.because}`,
  'card.revoke': (f, w) => {
    const reason = revokeReasons[w.detail('reason')];
    return `${w.actor} revoked ${card(f, w)}${reason ? ` (${reason})` : ''}${w.because}`;
  },
  'card.delete': (f, w) => `${w.actor} deleted ${card(f, w)}${w.because}`,
  'card.purge': (f, w) => `${w.actor} removed the record of ${card(f, w)}`,
  'card.renew': (f, w) => `${w.actor} renewed ${card(f, w)}`,
  'card.replace.supersede': (f, w) => `${w.actor} replaced ${card(f, w)} with a new card`,
  'card.replace.revoke': (f, w) => `${w.actor} revoked ${card(f, w)}, reported lost or stolen, to replace it`,
  'card.pin_changed': (f, w) => `${w.actor} changed the PIN of ${card(f, w)}`,
  'notice.queued': (f, w) => `${w.actor} prepared the ${w.detail('days')}-day expiry e-mail for ${card(f, w)}`,
  'notice.sent': (f, w) => `${w.actor} sent the ${w.detail('days')}-day expiry e-mail for ${card(f, w)}`,
  'notice.retry': (f, w) =>
    `${w.actor} could not send the ${w.detail('days')}-day expiry e-mail for ${card(f, w)} and will try again`,
  'notice.failed': (f, w) =>
    `${w.actor} gave up sending the ${w.detail('days')}-day expiry e-mail for ${card(f, w)} after ${w.detail('attempts')} tries`,
  'card.pin_change_failed': (f, w) => `A PIN change on ${card(f, w)} failed`,
  'card.pin_reset': (f, w) => `${w.actor} reset the PIN of ${card(f, w)}`,
  'card.pin_state_reported': (f, w) => `${w.actor} reported the PIN state of ${card(f, w)}`,
  'card.pin_unblock_offline': (f, w) => `${w.actor} gave an offline unblock code for ${card(f, w)}`,
  'card.puk_released': (f, w) => `vscard gave the unblock key of ${card(f, w)} to the Desktop App`,
  'certificate.issue': (f, w) => `${w.actor} issued certificate ${w.object}${f.subjectName ? ` to ${f.subjectName}` : ''}`,
  'order.start': (f, w) =>
    `${w.actor} started ${processName(w.detail('process'))}${f.subjectName && w.whose !== 'their ' ? ` for ${f.subjectName}` : ''}${w.because}`,
  'order.next': (_, w) => `${w.actor} went on with ${w.whose}order`,
  'order.claim': (_, w) => `${w.actor} opened ${w.whose}order`,
  'order.bridge_step': (_, w) => `${w.actor} went on with ${w.whose}order`,
  'order.creating_card': (_, w) => `${w.actor} began to create the card of ${w.whose}order`,
  'order.card_ready': (_, w) => `${w.actor} finished the card of ${w.whose}order`,
  'order.issuing': (_, w) => `vscard issued the certificates of ${w.whose}order`,
  'order.cancel': (_, w) => `${w.actor} cancelled ${w.whose}order${w.because}`,
  'order.expire': (_, w) => `${w.whose ? w.whose.replace(/^./, (c) => c.toUpperCase()) : 'An '}order expired unfinished`,
  'order.fail': (_, w) => `${w.whose ? w.whose.replace(/^./, (c) => c.toUpperCase()) : 'An '}order failed${w.because}`,
  'order.pin_changed': (_, w) => `${w.actor} changed the PIN in ${w.whose}order`,
  'order.puk_released': (_, w) => `vscard gave the unblock key to the Desktop App in ${w.whose}order`,
  'order.puk_confirmed': (_, w) => `${w.actor} confirmed the new unblock key in ${w.whose}order`,
  'order.renew_handoff': (_, w) => `${w.actor} asked for a new Desktop App link for ${w.whose}order`,
  'order.unblock_response': (_, w) => `${w.actor} got an offline unblock code in ${w.whose}order`,
  'script.create': (f, w) => `${w.actor} created the option script ${f.objectID}${w.because}`,
  'script.update': (f, w) => `${w.actor} saved version ${w.detail('version')} of the option script ${f.objectID}${w.because}`,
  'script.revert': (f, w) => `${w.actor} reverted the option script ${f.objectID} to an earlier version${w.because}`,
  'audit.export': (_, w) => `${w.actor} exported the audit log`,
};

const processNames: Record<string, string> = {
  'get-virtual-smart-card': 'getting a virtual smart card',
  'change-pin': 'changing a PIN',
  'reset-pin': 'resetting a PIN',
  'unblock-pin-offline': 'unblocking a PIN offline',
  'lock-virtual-smart-card': 'locking a card',
  'unlock-virtual-smart-card': 'unlocking a card',
  'renew-virtual-smart-card': 'renewing a card',
  'replace-virtual-smart-card': 'replacing a card',
  'delete-virtual-smart-card': 'deleting a card',
};

function processName(p: string): string {
  return processNames[p] ?? 'an order';
}

/** actorWords names who acted: the Desktop App acts for its order's owner. */
export function actorWords(f: Pick<AuditFacts, 'actorName' | 'actorKind'>): string {
  switch (f.actorKind) {
    case 'bridge':
      return `The Desktop App of ${f.actorName}`;
    case 'system':
      return 'vscard';
    case 'anonymous':
      return 'Someone not signed in';
    default:
      return f.actorName;
  }
}

/** auditSentence is the event in one sentence. */
export function auditSentence(f: AuditFacts): string {
  const detail = (key: string) => {
    const v = f.details?.[key];
    return v === undefined || v === null ? '' : String(v);
  };
  const reason = detail('reason') && f.action !== 'card.revoke' ? detail('reason') : detail('comment');
  const mine = f.subjectName && f.subjectName === f.actorName && f.actorKind !== 'bridge';
  const helpers: Helpers = {
    actor: actorWords(f),
    object: f.objectLabel ?? '',
    whose: f.subjectName ? (mine ? 'their ' : `${f.subjectName}’s `) : '',
    detail,
    because: reason ? `: ${reason}` : '',
  };
  const words = sentences[f.action];
  const s = words ? words(f, helpers) : `${helpers.actor}: ${f.action}`;
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** actionLabels names each kind of event for the action filter. */
export const actionLabels: Record<string, string> = {
  'auth.login': 'Signed in',
  'auth.logout': 'Signed out',
  'user.set_state': 'Person’s state changed',
  'user.end_sessions': 'Sessions ended',
  'user.sign_out_everywhere': 'Signed out everywhere',
  'card.lock': 'Card locked',
  'card.unlock': 'Card unlocked',
  'card.revoke': 'Card revoked',
  'card.delete': 'Card deleted',
  'card.purge': 'Card record removed',
  'card.renew': 'Card renewed',
  'card.replace.supersede': 'Card replaced',
  'card.replace.revoke': 'Lost card revoked for replacement',
  'card.pin_changed': 'PIN changed',
  'notice.queued': 'Expiry e-mail prepared',
  'notice.sent': 'Expiry e-mail sent',
  'notice.retry': 'Expiry e-mail not sent, retried later',
  'notice.failed': 'Expiry e-mail given up',
  'card.pin_change_failed': 'PIN change failed',
  'card.pin_reset': 'PIN reset',
  'card.pin_state_reported': 'PIN state reported',
  'card.pin_unblock_offline': 'Offline unblock code given',
  'card.puk_released': 'Unblock key given to the Desktop App',
  'certificate.issue': 'Certificate issued',
  'order.start': 'Order started',
  'order.next': 'Order went on',
  'order.claim': 'Order opened in the Desktop App',
  'order.bridge_step': 'Desktop App step',
  'order.creating_card': 'Card creation began',
  'order.card_ready': 'Card finished',
  'order.issuing': 'Certificates issued for an order',
  'order.cancel': 'Order cancelled',
  'order.expire': 'Order expired',
  'order.fail': 'Order failed',
  'order.pin_changed': 'PIN changed in an order',
  'order.puk_released': 'Unblock key given in an order',
  'order.puk_confirmed': 'New unblock key confirmed',
  'order.renew_handoff': 'New Desktop App link',
  'order.unblock_response': 'Offline unblock code in an order',
  'script.create': 'Option script created',
  'script.update': 'Option script saved',
  'script.revert': 'Option script reverted',
  'audit.export': 'Audit log exported',
};
