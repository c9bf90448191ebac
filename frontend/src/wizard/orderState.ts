// The mapping from an order's server-side state to what the wizard shows. Pure functions,
// unit-tested in orderState.test.ts; the components only render what these decide.
import type { TFunction } from 'i18next';

import type { OrderState } from '../gql/graphql';
import i18n from '../i18n';

/** Phase is the wizard page a state belongs to. */
export type Phase = 'intro' | 'desktop' | 'review' | 'done' | 'ended';

export const FINAL_STATES: readonly OrderState[] = ['COMPLETED', 'CANCELLED', 'FAILED', 'EXPIRED'];

export function isFinal(state: OrderState): boolean {
  return FINAL_STATES.includes(state);
}

/**
 * StateMap is what of a process's states the wizard's pure functions need (a Flow, see
 * flows.ts, is one): where the person reviews before Next, where Next is theirs, and the
 * Desktop App's progress. The defaults are get-virtual-smart-card's.
 */
export interface StateMap {
  /** reviewStates: the running states the person checks a result in before Next finishes. */
  reviewStates: readonly OrderState[];
  /** nextStates: the states where Next is the person's to press. */
  nextStates: readonly OrderState[];
  /** progress: one step per state the server goes through while the Desktop App works. */
  progress: readonly { state: OrderState }[];
}

/** ProgressItem is one step of a flow's progress in words: once done, and while current. */
export interface ProgressItem {
  state: OrderState;
  label: string;
  activeLabel: string;
}

/**
 * phaseOf: STARTED is the introduction, a review state the review, every other running
 * state the Desktop App's; so a process with states of its own needs no change here.
 */
export function phaseOf(state: OrderState, map: StateMap = GET_CARD): Phase {
  if (state === 'STARTED') return 'intro';
  if (state === 'COMPLETED') return 'done';
  if (isFinal(state)) return 'ended';
  return map.reviewStates.includes(state) ? 'review' : 'desktop';
}

/** The wizard's overall steps, shown at the top of every page of it (their words: flows.ts). */
export const PHASES: readonly { phase: Phase }[] = [{ phase: 'intro' }, { phase: 'desktop' }, { phase: 'review' }, { phase: 'done' }];

/** phaseIndex is the active index in PHASES; ended orders keep no step active. */
export function phaseIndex(state: OrderState, map: StateMap = GET_CARD, phases: readonly { phase: Phase }[] = PHASES): number {
  const phase = phaseOf(state, map);
  if (phase === 'ended') return -1;
  // The Done step shows as completed once the order is.
  if (phase === 'done') return phases.length;
  return phases.findIndex((p) => p.phase === phase);
}

/**
 * The live progress while the Desktop App works: one step per state the server goes
 * through. A step is current while the order is in its state (or, for the first, still
 * waiting for the Desktop App) and done once the order has moved past it. Their words are
 * the flow's (flows.ts, catalogue wizard:progress).
 */
export const PROGRESS: readonly { state: OrderState }[] = [
  { state: 'DESKTOP_APP_CONNECTED' },
  { state: 'CREATING_CARD' },
  { state: 'ISSUING_CERTIFICATES' },
  { state: 'CARD_READY' },
];

/**
 * progressIndex is the current PROGRESS step (the steps before it are done): the first
 * while waiting for and talking to the Desktop App, ..., and PROGRESS.length (all done)
 * once the card is ready.
 */
export function progressIndex(state: OrderState, map: StateMap = GET_CARD): number {
  if (state === 'COMPLETED' || map.reviewStates.includes(state)) return map.progress.length;
  const i = map.progress.findIndex((p) => p.state === state);
  return i < 0 ? 0 : i;
}

/** GET_CARD is get-virtual-smart-card's StateMap. */
export const GET_CARD: StateMap = { reviewStates: ['CARD_READY'], nextStates: ['STARTED', 'CARD_READY'], progress: PROGRESS };

export interface StepLike {
  state: OrderState;
  at: string;
}

/** stepTime is when the order last entered state, from its step history. */
export function stepTime(steps: readonly StepLike[], state: OrderState): string | undefined {
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step && step.state === state) return step.at;
  }
  return undefined;
}

/** canCancel: every running order can be cancelled; final ones cannot. */
export function canCancel(state: OrderState): boolean {
  return !isFinal(state);
}

/** canProceed: Next is the user's to press only in the process's next states (for get-virtual-smart-card at the start and once the card is ready). */
export function canProceed(state: OrderState, map: StateMap = GET_CARD): boolean {
  return map.nextStates.includes(state);
}

export interface OrderLike {
  id: string;
  /** version is the server's count of the order's changes: every write adds one. */
  version: number;
}

/**
 * newerOrder picks the fresher of two snapshots of one order: the wizard receives the
 * order from the subscription and from its own mutations, which may arrive in any order.
 * The higher version wins; an equal one is the same write seen twice, and the incoming
 * snapshot is taken (it may carry edges, such as the card, that the other did not select).
 */
export function newerOrder<T extends OrderLike>(current: T | undefined, incoming: T | undefined): T | undefined {
  if (!current || !incoming || current.id !== incoming.id) return incoming ?? current;
  return incoming.version >= current.version ? incoming : current;
}

/**
 * mergeOrder applies a mutation's answer, which carries the order without its edges, to
 * the full snapshot: the fields it has replace the snapshot's unless it is older.
 */
export function mergeOrder<T extends OrderLike>(current: T | undefined, core: Partial<T> & OrderLike | undefined): T | undefined {
  if (!current || !core || current.id !== core.id) return current;
  return newerOrder(current, { ...current, ...core });
}

export interface EndMessage {
  title: string;
  message: string;
  color: 'gray' | 'red' | 'orange';
}

/** EndWords are what a process says when its order ended: the default is get-virtual-smart-card's. */
export interface EndWords {
  cancelled: string;
  failedTitle: string;
  /**
   * undone says what was taken back, after the failure's reason or the expiry; empty when
   * the reason says it all (a card process's failure reason is the Desktop App's words on
   * what happened to the card).
   */
  undone: string;
  /** failedWithout is the failure's message when the order carries no reason. */
  failedWithout: string;
  /** expiredUndone, when set, replaces undone after an expiry. */
  expiredUndone?: string;
}

/** getCardEnd is get-virtual-smart-card's EndWords, in t's language (the current one by default). */
export function getCardEnd(t: TFunction<'wizard'> = i18n.getFixedT(null, 'wizard') as TFunction<'wizard'>): EndWords {
  // Without the server's account of what it undid (an older server): say only what is true either way.
  return {
    cancelled: t('wizard:getCard.cancelled'),
    failedTitle: t('wizard:getCard.failedTitle'),
    undone: t('wizard:getCard.undone'),
    failedWithout: t('wizard:getCard.undone'),
  };
}

/** Undone is what the server says an order's ending took back (OrderStep.undone). */
export interface Undone {
  cardDeleted: boolean;
  certificatesRevoked: number;
}

/** undoneOf returns what the step that ended the order took back, if the server said. */
export function undoneOf(steps: readonly { state: OrderState; undone?: Undone | null }[] | null | undefined, state: OrderState): Undone | undefined {
  const last = steps?.[steps.length - 1];
  return last && last.state === state && last.undone ? last.undone : undefined;
}

/**
 * undoneWords says what an ending took back, from the server's account: a deleted card and
 * revoked certificates only when there were some, and that nothing had been made otherwise.
 */
export function undoneWords(u: Undone): string {
  const t = i18n.getFixedT(null, 'wizard', 'end');
  const count = u.certificatesRevoked;
  if (u.cardDeleted) return count > 0 ? t('undone.cardAndCertificates', { count }) : t('undone.cardOnly');
  return count > 0 ? t('undone.certificatesOnly', { count }) : t('undone.nothing');
}

/**
 * failureWords turns an order's failure reason into words, for the operator's and the admin's
 * order pages: a Desktop App code's (it reaches failureReason as "desktop-app:<CODE>",
 * desktop-bridge/handoff/codes.go; a code this portal has no words for gets general ones),
 * the CA's refusal (whose text names the server's error code), or else the reason itself, a
 * text the Desktop App wrote for the operator. The server's reasons for refusing the keys'
 * TPM proof ("desktop-app:TPM_EVIDENCE_MISSING") have their words in the tpm namespace, with
 * the other words about TPMs. (One i18next call with fallback keys: the initial bundle has
 * no room to spare.) failureCodes.test.ts fails when a code the Desktop App can send
 * (failureCodes.json, from make generate) lacks words in a language.
 */
export function failureWords(reason: string): string {
  if (reason.startsWith(CA_REFUSED)) return i18n.t('wizard:end.caRefused');
  if (!reason.startsWith(DESKTOP_APP)) return reason;
  const code = reason.slice(DESKTOP_APP.length);
  if (!/^[A-Za-z_]+$/.test(code)) return i18n.t('wizard:end.desktopAppUnknown');
  return i18n.t([`wizard:end.desktopApp.${code}`, `tpm:reason.${code}`, 'wizard:end.desktopAppUnknown']);
}

/** DESKTOP_APP starts a failure reason that is a Desktop App's code (handoff.ReasonPrefix). */
const DESKTOP_APP = 'desktop-app:';
/** CA_REFUSED starts the server's failure reason when the CA refused a certificate. */
const CA_REFUSED = 'the CA refused';

/**
 * personFailureWords is what a person reads of a failure reason: a Desktop App code's words,
 * the CA's refusal in words, and for any other reason (a text the Desktop App or the server
 * wrote for the operator's order list) general words: no error chain reaches a person.
 */
export function personFailureWords(reason: string): string {
  if (reason.startsWith(DESKTOP_APP) || reason.startsWith(CA_REFUSED)) return failureWords(reason);
  return i18n.t('wizard:end.desktopAppUnknown');
}

/**
 * endMessage explains an order that ended before it completed. With undone, the server's
 * account of what the ending took back, a flow that undoes (words.undone not empty) says
 * exactly that instead of its general words.
 */
export function endMessage(
  state: OrderState,
  failureReason?: string | null,
  words: EndWords = getCardEnd(),
  undone?: Undone,
): EndMessage | undefined {
  const t = i18n.getFixedT(null, 'wizard', 'end');
  const what = undone && words.undone ? undoneWords(undone) : undefined;
  switch (state) {
    case 'CANCELLED':
      return {
        title: t('cancelledTitle'),
        message: what ? `${what} ${t('again')}` : words.cancelled,
        color: 'gray',
      };
    case 'FAILED':
      return {
        title: words.failedTitle,
        message: failureReason ? `${personFailureWords(failureReason)} ${what ?? words.undone}`.trim() : (what ?? words.failedWithout),
        color: 'red',
      };
    case 'EXPIRED':
      return {
        title: t('expiredTitle'),
        message: `${t('expiredLead')} ${what ?? words.expiredUndone ?? words.undone}`.trim(),
        color: 'orange',
      };
    default:
      return undefined;
  }
}

/** DESKTOP_APP_HELP_AFTER_MS: how long the wizard waits before explaining how to start the Desktop App. */
export const DESKTOP_APP_HELP_AFTER_MS = 60_000;
