// What the wizard says and shows for each process. The wizard (OrderWizardPage and its
// steps) is one for every process: Next/Cancel, the hand-off to the Desktop App, live
// progress; a process differs only in its words and in which of its states are the
// person's (StateMap). A process the portal has no flow for gets the generic card flow,
// which is honest for any process that hands a card to the Desktop App.
//
// Adding a process: one entry in `flows` (append; other processes' entries sit next to it)
// and its words under flow.<process> in locales/{en,de}/wizard.json. cardFlow fits a card
// process that hands off to the Desktop App; serverFlow one whose Next ends it (lock): its
// order goes from the introduction straight to Done, and no Desktop App page shows.
//
// Every word comes from the catalogue (namespace wizard) in the language asked for, when the
// flow is built: flowOf is called on every render, so a change of language shows at once.
// flows.test.ts checks that every process's flow has its own words in every language.
import type { TFunction } from 'i18next';

import i18n from '../i18n';
import { GET_CARD, getCardEnd, PHASES, type EndWords, type Phase, type ProgressItem, type StateMap } from './orderState';

/** Flow is one process's wizard: its StateMap and its words. */
export interface Flow extends StateMap {
  /** progress: the Desktop App's steps, with what each says while current and once done. */
  progress: readonly ProgressItem[];
  /** phases are the steps shown at the top of every page of the wizard. */
  phases: readonly { phase: Phase; label: string }[];
  headings: Record<Phase, string>;
  /**
   * introSteps, for a flow without an intro of its own (get-virtual-smart-card's shows its
   * certificates), say what will happen after Next, in order.
   */
  introSteps: readonly string[];
  /** waiting and working: what the progress page says before and after the Desktop App connected. */
  waiting: string;
  working: string;
  /** busy is Next's title while the Desktop App has the order. */
  busy: string;
  /** handoff is the first sentence of the hand-off dialog. */
  handoff: string;
  /** cancel is what the cancel dialog says is left behind. */
  cancel: string;
  /** doneTitle and done are what the last page says; done gets the card's serial when known. */
  doneTitle: string;
  done: (serial: string | undefined) => string;
  end: EndWords;
  /** again is where "Start again" leads after an order ended. */
  again: string;
  /** choices are the yes/no questions of the intro, sent with Next (nextStep's choices). */
  choices?: readonly Choice[];
  /**
   * challenge makes the intro ask for the challenge the Desktop App shows, and Next answer
   * it (answerUnblockChallenge) instead of nextStep; the last page shows the response.
   */
  challenge?: boolean;
}

/** Choice is one yes/no question the person answers before Next. */
export interface Choice {
  name: string;
  label: string;
  description: string;
  default: boolean;
}

/** Words reads the catalogue in one language (i18n.getFixedT(lng, 'wizard')). */
type Words = TFunction<'wizard'>;

/** list is a catalogue array (a flow's intro steps); a missing one shows its key, as t() does. */
function list(t: Words, key: string): string[] {
  const v: unknown = t(key, { returnObjects: true });
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** done says what the last page says, with the card's serial when known. */
function done(t: Words, key: string): (serial: string | undefined) => string {
  return (serial) => (serial ? t(`${key}.doneSerial`, { serial }) : t(`${key}.done`));
}

/** phaseLabels are the steps at the top of the wizard, in words. */
function phaseLabels(t: Words, phases: readonly Phase[]): Flow['phases'] {
  return phases.map((phase) => ({ phase, label: t(`getCard.phase.${phase}`) }));
}

/** getCardFlow is get-virtual-smart-card's wizard. */
function getCardFlow(t: Words): Flow {
  return {
    ...GET_CARD,
    progress: [
      { state: 'DESKTOP_APP_CONNECTED', label: t('progress.connected'), activeLabel: t('progress.getCard.DESKTOP_APP_CONNECTED') },
      ...(['CREATING_CARD', 'ISSUING_CERTIFICATES', 'CARD_READY'] as const).map((state) => ({
        state,
        label: t(`progress.getCard.${state}.label`),
        activeLabel: t(`progress.getCard.${state}.active`),
      })),
    ],
    phases: phaseLabels(
      t,
      PHASES.map((p) => p.phase),
    ),
    headings: {
      intro: t('getCard.heading.intro'),
      desktop: t('getCard.heading.desktop'),
      review: t('getCard.heading.review'),
      done: t('getCard.heading.done'),
      ended: t('getCard.heading.ended'),
    },
    introSteps: [],
    waiting: t('getCard.waiting'),
    working: t('getCard.working'),
    busy: t('getCard.busy'),
    handoff: t('getCard.handoff'),
    cancel: t('getCard.cancel'),
    doneTitle: t('getCard.doneTitle'),
    done: (serial) => (serial ? t('getCard.doneSerial', { serial }) : t('getCard.doneNoSerial')),
    end: getCardEnd(t),
    again: '/get-virtual-smart-card',
  };
}

/**
 * cardFlow builds the flow of a process on an existing card that hands off to the Desktop
 * App: Next opens it, it reports when connected, and the order completes when it is done.
 * Its words are the catalogue's flow.<key>: title, intro, connected, doing, did, doneTitle,
 * done(Serial), failedTitle; the rest is shared (flow.card).
 */
function cardFlow(t: Words, key: string): Flow {
  const w = (k: string) => t(`flow.${key}.${k}`);
  const title = w('title');
  return {
    reviewStates: [],
    nextStates: ['STARTED'],
    progress: [
      { state: 'DESKTOP_APP_CONNECTED', label: t('progress.connected'), activeLabel: w('connected') },
      { state: 'COMPLETED', label: w('did'), activeLabel: w('doing') },
    ],
    phases: phaseLabels(t, ['intro', 'desktop', 'done']),
    headings: {
      intro: title,
      desktop: t('flow.card.headingDesktop', { title }),
      review: title,
      done: t('getCard.heading.done'),
      ended: t('getCard.heading.ended'),
    },
    introSteps: list(t, `flow.${key}.intro`),
    waiting: t('flow.card.waiting'),
    working: t('flow.card.working'),
    busy: t('getCard.busy'),
    handoff: t('flow.card.handoff'),
    cancel: t('flow.card.cancel'),
    doneTitle: w('doneTitle'),
    done: done(t, `flow.${key}`),
    end: {
      cancelled: t('flow.card.nothingChanged'),
      failedTitle: w('failedTitle'),
      undone: '',
      failedWithout: t('flow.card.nothingChanged'),
      expiredUndone: t('flow.card.nothingChanged'),
    },
    again: '/cards',
  };
}

/** resetPinFlow is reset-pin's: a card flow with the server's step (RESETTING_PIN) between the two. */
function resetPinFlow(t: Words): Flow {
  const flow = cardFlow(t, 'reset-pin');
  const [connected, completed] = flow.progress as [ProgressItem, ProgressItem];
  return {
    ...flow,
    progress: [
      connected,
      { state: 'RESETTING_PIN', label: t('progress.pinUnblocked'), activeLabel: t('flow.reset-pin.unblocking') },
      completed,
    ],
  };
}

/**
 * issueFlow is the flow of a process that puts new certificates on a card the person has
 * (renew, add certificates): a card flow with the server's issuing step between the two.
 */
function issueFlow(t: Words, key: string): Flow {
  const flow = cardFlow(t, key);
  const [connected, completed] = flow.progress as [ProgressItem, ProgressItem];
  const asBefore = t('flow.card.worksAsBefore');
  return {
    ...flow,
    progress: [
      connected,
      { state: 'ISSUING_CERTIFICATES', label: t('progress.issued'), activeLabel: t(`flow.${key}.issuing`) },
      completed,
    ],
    cancel: t(`flow.${key}.cancel`),
    end: { ...flow.end, cancelled: asBefore, failedWithout: asBefore, expiredUndone: asBefore },
  };
}

/** choices are a flow's yes/no questions in words, with their defaults. */
function choices(t: Words, key: string, defaults: Record<string, boolean>): Choice[] {
  return Object.entries(defaults).map(([name, value]) => ({
    name,
    label: t(`flow.${key}.choice.${name}.label`),
    description: t(`flow.${key}.choice.${name}.description`),
    default: value,
  }));
}

/**
 * serverFlow builds the flow of a process on an existing card that the server carries out
 * on its own at Next (lock, unlock): no Desktop App, so the intro and the result.
 */
function serverFlow(t: Words, key: string, more: { choices?: Record<string, boolean>; challenge?: boolean } = {}): Flow {
  const base = cardFlow(t, key);
  const title = t(`flow.${key}.title`);
  return {
    ...base,
    progress: [],
    phases: phaseLabels(t, ['intro', 'done']),
    headings: { ...base.headings, desktop: title },
    cancel: t(`flow.${key}.cancel`),
    end: { ...base.end, cancelled: t('flow.card.nothingChanged'), undone: t('flow.card.asItWas') },
    choices: more.choices && choices(t, key, more.choices),
    challenge: more.challenge,
  };
}

/**
 * replaceFlow is get-virtual-smart-card's wizard (the same states, Desktop App and review)
 * with a first question, why the card is replaced, and words for the old card.
 */
function replaceFlow(t: Words): Flow {
  const key = 'replace-virtual-smart-card';
  const getCard = getCardFlow(t);
  return {
    ...getCard,
    headings: { ...getCard.headings, intro: t(`flow.${key}.title`) },
    introSteps: list(t, `flow.${key}.intro`),
    choices: choices(t, key, { lostOrStolen: false }),
    cancel: t(`flow.${key}.cancel`),
    doneTitle: t(`flow.${key}.doneTitle`),
    done: done(t, `flow.${key}`),
    again: '/cards',
  };
}

/** flows are the wizards of the processes this portal knows, by symbolic name. */
const flows: Record<string, (t: Words) => Flow> = {
  'get-virtual-smart-card': getCardFlow,
  'change-pin': (t) => cardFlow(t, 'change-pin'),
  'reset-pin': resetPinFlow,
  'lock-virtual-smart-card': (t) => serverFlow(t, 'lock-virtual-smart-card', { choices: { holdEncryptionCertificate: true } }),
  'renew-virtual-smart-card': (t) => issueFlow(t, 'renew-virtual-smart-card'),
  'issue-certificates-to-virtual-smart-card': (t) => issueFlow(t, 'issue-certificates-to-virtual-smart-card'),
  'replace-virtual-smart-card': replaceFlow,
  'delete-virtual-smart-card': (t) => serverFlow(t, 'delete-virtual-smart-card'),
  'unlock-virtual-smart-card': (t) => serverFlow(t, 'unlock-virtual-smart-card'),
  'unblock-pin-offline': (t) => serverFlow(t, 'unblock-pin-offline', { challenge: true }),
};

/** FLOW_NAMES are the processes with a wizard of their own; any other gets the generic card flow. */
export const FLOW_NAMES = Object.keys(flows);

/**
 * flowOf is the wizard of the process named name, in lng (the SPA's current language when
 * not given). A process the portal has no flow for gets the generic card flow.
 */
export function flowOf(name: string | undefined, lng?: string): Flow {
  const t = i18n.getFixedT(lng ?? null, 'wizard') as Words;
  const build = name ? flows[name] : undefined;
  return build ? build(t) : cardFlow(t, 'generic');
}
