// What the wizard says and shows for each process. The wizard (OrderWizardPage and its
// steps) is one for every process: Next/Cancel, the hand-off to the Desktop App, live
// progress; a process differs only in its words and in which of its states are the
// person's (StateMap). A process the portal has no flow for gets the generic card flow,
// which is honest for any process that hands a card to the Desktop App.
//
// Adding a process: one entry in `flows` (append; other processes' entries sit next to it).
// cardFlow fits a card process that hands off to the Desktop App; one that does not (lock)
// spreads cardFlow's result and overrides introSteps (and nextStates if its Next ends it):
// its order goes from the introduction straight to Done, and no Desktop App page shows.
import i18n from '../i18n';
import { GET_CARD, GET_CARD_END, PHASES, type EndWords, type Phase, type StateMap } from './orderState';

/** Flow is one process's wizard: its StateMap and its words. */
export interface Flow extends StateMap {
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

const getCard: Flow = {
  ...GET_CARD,
  phases: PHASES,
  headings: {
    intro: 'Get a virtual smart card',
    desktop: 'Create the card with the Desktop App',
    review: 'Your new card',
    done: 'Done',
    ended: 'The order has ended',
  },
  introSteps: [],
  waiting: 'Waiting for the Desktop App. Open it with the link, then type your PIN there.',
  working: 'The Desktop App is creating your card. Keep this page open; it follows every step.',
  busy: 'The Desktop App is working on your card',
  handoff: 'The Desktop App creates the card on this computer and asks you for a PIN.',
  cancel:
    'The order ends here. Nothing is left behind: a card the Desktop App has started is deleted and every certificate issued for it is revoked. You can start again at any time.',
  doneTitle: 'Your virtual smart card is ready',
  done: (serial) =>
    `${serial ? `Card ${serial} is active` : 'The card is active'} and its certificates are valid. You can use it right away on this computer.`,
  end: GET_CARD_END,
  again: '/get-virtual-smart-card',
};

/** CARD_PHASES are the steps of a process on an existing card that the Desktop App carries out. */
const CARD_PHASES: Flow['phases'] = [
  { phase: 'intro', label: 'Introduction' },
  { phase: 'desktop', label: 'Desktop App' },
  { phase: 'done', label: 'Done' },
];

/**
 * cardFlow builds the flow of a process on an existing card that hands off to the Desktop
 * App: Next opens it, it reports when connected, and the order completes when it is done.
 * `words` gives what differs; the rest is shared.
 */
export function cardFlow(words: {
  title: string;
  introSteps: string[];
  connected: string;
  doing: string;
  did: string;
  doneTitle: string;
  done: (serial: string | undefined) => string;
  failedTitle: string;
}): Flow {
  const progress: StateMap['progress'] = [
    { state: 'DESKTOP_APP_CONNECTED', label: 'Desktop App connected', activeLabel: words.connected },
    { state: 'COMPLETED', label: words.did, activeLabel: words.doing },
  ];
  return {
    reviewStates: [],
    nextStates: ['STARTED'],
    progress,
    phases: CARD_PHASES,
    headings: {
      intro: words.title,
      desktop: `${words.title} in the Desktop App`,
      review: words.title,
      done: 'Done',
      ended: 'The order has ended',
    },
    introSteps: words.introSteps,
    waiting: 'Waiting for the Desktop App. Open it with the link; it asks for what it needs there.',
    working: 'The Desktop App has your card. Keep this page open; it follows every step.',
    busy: 'The Desktop App is working on your card',
    handoff: 'The Desktop App does this on the card on this computer.',
    cancel: 'The order ends here and nothing is changed on your card. You can start again from your cards at any time.',
    doneTitle: words.doneTitle,
    done: words.done,
    end: {
      cancelled: 'Nothing was changed on your card.',
      failedTitle: words.failedTitle,
      undone: '',
      failedWithout: 'Nothing was changed on your card.',
      expiredUndone: 'Nothing was changed on your card.',
    },
    again: '/cards',
  };
}

const genericCard = cardFlow({
  title: 'Card process',
  introSteps: ['Next opens the vscard Desktop App on this computer.', 'You finish there; this page follows along.'],
  connected: 'Desktop App connected: go on there',
  doing: 'The Desktop App is working',
  did: 'Done',
  doneTitle: 'Done',
  done: (serial) => (serial ? `Card ${serial} is done.` : 'Done.'),
  failedTitle: 'It did not work',
});

/** resetPinFlow is reset-pin's: a card flow with the server's step (RESETTING_PIN) between the two. */
function resetPinFlow(): Flow {
  const flow = cardFlow({
    title: 'Reset PIN',
    introSteps: [
      'Next opens the vscard Desktop App on the computer that has the card.',
      'The Desktop App shows which card and asks for a new PIN twice. You do not need the old PIN; only the card sees the new one.',
      'The Desktop App unblocks the card with a code the server keeps for it, and replaces that code; this page follows along.',
    ],
    connected: 'Desktop App connected: choose your new PIN there',
    doing: 'Resetting the PIN',
    did: 'PIN reset',
    doneTitle: 'Your PIN is reset',
    done: (serial) => `${serial ? `Card ${serial}` : 'Your card'} now takes the new PIN.`,
    failedTitle: 'The PIN was not reset',
  });
  return {
    ...flow,
    progress: [
      { state: 'DESKTOP_APP_CONNECTED', label: 'Desktop App connected', activeLabel: 'Desktop App connected: choose your new PIN there' },
      { state: 'RESETTING_PIN', label: 'PIN unblocked', activeLabel: 'Unblocking the card and replacing its unblocking code' },
      { state: 'COMPLETED', label: 'PIN reset', activeLabel: 'Resetting the PIN' },
    ],
  };
}

/**
 * issueFlow is the flow of a process that puts new certificates on a card the person has
 * (renew, add certificates): a card flow with the server's issuing step between the two.
 */
function issueFlow(words: Parameters<typeof cardFlow>[0] & { issuing: string; cancel: string }): Flow {
  const flow = cardFlow(words);
  return {
    ...flow,
    progress: [
      { state: 'DESKTOP_APP_CONNECTED', label: 'Desktop App connected', activeLabel: words.connected },
      { state: 'ISSUING_CERTIFICATES', label: 'Certificates issued', activeLabel: words.issuing },
      { state: 'COMPLETED', label: words.did, activeLabel: words.doing },
    ],
    cancel: words.cancel,
    end: {
      ...flow.end,
      cancelled: 'Your card works as before; any certificate issued for this order is revoked.',
      failedWithout: 'Your card works as before; any certificate issued for this order is revoked.',
      expiredUndone: 'Your card works as before; any certificate issued for this order is revoked.',
    },
  };
}

/**
 * serverFlow builds the flow of a process on an existing card that the server carries out
 * on its own at Next (lock, unlock): no Desktop App, so the intro and the result.
 */
function serverFlow(words: {
  title: string;
  introSteps: string[];
  doneTitle: string;
  done: (serial: string | undefined) => string;
  failedTitle: string;
  cancel: string;
  choices?: Choice[];
  challenge?: boolean;
}): Flow {
  const base = cardFlow({ ...words, connected: '', doing: words.title, did: 'Done' });
  return {
    ...base,
    progress: [],
    phases: [
      { phase: 'intro', label: 'Introduction' },
      { phase: 'done', label: 'Done' },
    ],
    headings: { ...base.headings, desktop: words.title },
    cancel: words.cancel,
    end: { ...base.end, cancelled: 'Nothing was changed on your card.', undone: 'Your card is as it was.' },
    choices: words.choices,
    challenge: words.challenge,
  };
}

/**
 * replaceFlow is get-virtual-smart-card's wizard (the same states, Desktop App and review)
 * with a first question, why the card is replaced, and words for the old card.
 */
function replaceFlow(): Flow {
  return {
    ...getCard,
    headings: { ...getCard.headings, intro: 'Replace your card', review: 'Your new card' },
    introSteps: [
      'Next opens the vscard Desktop App on the computer that gets the new card. It asks you for a PIN there; only the card sees it.',
      'It creates the new card and your organisation issues its certificates; this page follows along.',
      'You check the new card here and finish. Then the old card stops working: its certificates are revoked as replaced.',
    ],
    choices: [
      {
        name: 'lostOrStolen',
        label: 'The old card was lost or stolen',
        description:
          'Its certificates are then revoked at once, when you press Next, so nobody can use them, even if you do not finish the new card. Leave it off if the computer broke or you just move to a new one.',
        default: false,
      },
    ],
    cancel:
      'The order ends here. The new card is deleted and its certificates are revoked. Your old card stays as it was, unless you said it was lost or stolen: then it stays revoked.',
    doneTitle: 'Your new card is ready',
    done: (serial) =>
      `${serial ? `Card ${serial} is active` : 'The new card is active'} and its certificates are valid. The old card no longer works.`,
    again: '/cards',
  };
}

/** flows are the wizards of the processes this portal knows, by symbolic name. */
const flows: Record<string, Flow> = {
  'get-virtual-smart-card': getCard,
  'change-pin': cardFlow({
    title: 'Change PIN',
    introSteps: [
      'Next opens the vscard Desktop App on this computer.',
      'The Desktop App shows which card, and asks for your current PIN and the new one twice. Only the card sees them.',
      'It changes the PIN on the card; this page follows along.',
    ],
    connected: 'Desktop App connected: change your PIN there',
    doing: 'Changing the PIN',
    did: 'PIN changed',
    doneTitle: 'Your PIN is changed',
    done: (serial) => `${serial ? `Card ${serial}` : 'Your card'} now takes the new PIN.`,
    failedTitle: 'The PIN was not changed',
  }),
  'reset-pin': resetPinFlow(),
  'lock-virtual-smart-card': serverFlow({
    title: 'Lock card',
    introSteps: [
      'The card stops working at once: its certificates are put on hold, so sign-ins and signatures with it are refused everywhere.',
      'Nothing is deleted. When the card turns up again, an administrator can unlock it and it works as before.',
    ],
    choices: [
      {
        name: 'holdEncryptionCertificate',
        label: 'Also put the encryption certificate on hold',
        description:
          'Others then stop encrypting new mail to this card. Keep it off if you only want to stop sign-ins; mail you already have stays readable either way once the card is unlocked.',
        default: true,
      },
    ],
    doneTitle: 'Your card is locked',
    done: (serial) => `${serial ? `Card ${serial}` : 'The card'} is locked and its certificates are on hold.`,
    failedTitle: 'The card was not locked',
    cancel: 'The card is not locked and works as before.',
  }),
  'renew-virtual-smart-card': issueFlow({
    title: 'Renew card',
    introSteps: [
      'Next opens the vscard Desktop App on the computer that has the card.',
      'The Desktop App asks for your PIN and makes new keys on the same card for signing in and for signatures; the server issues their certificates.',
      'Only once the new certificates are on the card are the old ones revoked. Your encryption certificate is kept, so mail you already have stays readable. Your PIN stays the same.',
    ],
    connected: 'Desktop App connected: type your PIN there',
    issuing: 'Making new keys on the card and issuing their certificates',
    doing: 'Putting the new certificates on the card',
    did: 'Card renewed',
    doneTitle: 'Your card is renewed',
    done: (serial) => `${serial ? `Card ${serial}` : 'Your card'} has new certificates and works with the same PIN.`,
    failedTitle: 'The card was not renewed',
    cancel: 'The renewal ends here. Your card keeps its current certificates and works as before; you can renew it later.',
  }),
  'issue-certificates-to-virtual-smart-card': issueFlow({
    title: 'Add certificates',
    introSteps: [
      'Next opens the vscard Desktop App on the computer that has the card.',
      'The Desktop App asks for your PIN and makes a key on the same card for each certificate your organisation now gives that the card lacks (for example for encrypting e-mail).',
      'The server issues the certificates and the Desktop App puts them on the card. The certificates the card has stay as they are.',
    ],
    connected: 'Desktop App connected: type your PIN there',
    issuing: 'Making the new keys on the card and issuing their certificates',
    doing: 'Putting the certificates on the card',
    did: 'Certificates added',
    doneTitle: 'Your card has its new certificates',
    done: (serial) => `${serial ? `Card ${serial}` : 'Your card'} has the new certificates and works with the same PIN.`,
    failedTitle: 'The certificates were not added',
    cancel: 'The order ends here. Your card keeps the certificates it has and works as before.',
  }),
  'replace-virtual-smart-card': replaceFlow(),
  'delete-virtual-smart-card': serverFlow({
    title: 'Delete card',
    introSteps: [
      'The card stops working for good: its certificates are revoked, so sign-ins and signatures with it are refused everywhere.',
      'The card leaves your computer. This cannot be undone; get a new card when you need one.',
    ],
    doneTitle: 'Your card is deleted',
    done: (serial) => `${serial ? `Card ${serial}` : 'The card'} no longer works and its certificates are revoked.`,
    failedTitle: 'The card was not deleted',
    cancel: 'The card is not deleted and works as before.',
  }),
  'unlock-virtual-smart-card': serverFlow({
    title: 'Unlock card',
    introSteps: ['The certificates on hold are valid again and the card works as before.'],
    doneTitle: 'The card is unlocked',
    done: (serial) => `${serial ? `Card ${serial}` : 'The card'} is active again and its certificates are valid.`,
    failedTitle: 'The card was not unlocked',
    cancel: 'The card stays locked.',
  }),
  'unblock-pin-offline': serverFlow({
    title: 'Unblock PIN offline',
    introSteps: [
      'On the computer that has the card, run: vscard-bridge pin unblock --offline followed by the card number. It shows a challenge of 12 letters and digits.',
      'Type the challenge below and choose Next. This page then shows a response, once.',
      'Type the response and a new PIN into the computer that has the card. The response works once, for this card only.',
    ],
    challenge: true,
    doneTitle: 'Type this response on the computer that has the card',
    done: (serial) =>
      `${serial ? `Card ${serial}` : 'The card'} takes it once, with the new PIN you choose there. The response is shown only here: if you lose it, start again from your cards with a new challenge.`,
    failedTitle: 'No response was given',
    cancel: 'No response is given and the card stays as it is.',
  }),
};

/** flowOf is the wizard of the process named name. */
export function flowOf(name: string | undefined): Flow {
  if (name === 'get-virtual-smart-card') return getCardFlow();
  return (name && flows[name]) || genericCard;
}

/**
 * getCardFlow is get-virtual-smart-card's flow in the current language (namespace wizard,
 * getCard). The other flows still have their English words in this file.
 */
function getCardFlow(): Flow {
  const t = i18n.getFixedT(null, 'wizard', 'getCard');
  return {
    ...getCard,
    phases: getCard.phases.map((p) => ({ phase: p.phase, label: t(`phase.${p.phase}`, { defaultValue: p.label }) })),
    headings: {
      intro: t('heading.intro'),
      desktop: t('heading.desktop'),
      review: t('heading.review'),
      done: t('heading.done'),
      ended: t('heading.ended'),
    },
    waiting: t('waiting'),
    working: t('working'),
    busy: t('busy'),
    handoff: t('handoff'),
    cancel: t('cancel'),
    doneTitle: t('doneTitle'),
    done: (serial) => (serial ? t('doneSerial', { serial }) : t('doneNoSerial')),
    end: { ...getCard.end, cancelled: t('cancelled'), failedTitle: t('failedTitle'), undone: t('undone'), failedWithout: t('undone') },
  };
}
