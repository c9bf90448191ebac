// What the wizard says and shows for each process. The wizard (OrderWizardPage and its
// steps) is one for every process: Next/Cancel, the hand-off to the Desktop App, live
// progress; a process differs only in its words and in which of its states are the
// person's (StateMap). A process the portal has no flow for gets the generic card flow,
// which is honest for any process that hands a card to the Desktop App.
//
// Adding a process: one entry in `flows` (append; other processes' entries sit next to it).
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
      undone: 'Your card works as before.',
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
};

/** flowOf is the wizard of the process named name. */
export function flowOf(name: string | undefined): Flow {
  return (name && flows[name]) || genericCard;
}
