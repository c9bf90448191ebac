// What the Cards page says after a process the person started from a card's menu: the
// words come from the cards catalogue (notice.*), in the language the SPA speaks.
import type { OrderState } from '../gql/graphql';
import i18n from '../i18n';
import { processTitle } from '../lib/processes';

/** FINAL are the order states after which nothing more happens to it. */
const FINAL: readonly OrderState[] = ['COMPLETED', 'CANCELLED', 'FAILED', 'EXPIRED'];

/** DONE_WORDS are the processes with their own sentence for "done"; any other gets notice.done.other. */
const DONE_WORDS: readonly string[] = [
  'lock-virtual-smart-card',
  'unlock-virtual-smart-card',
  'delete-virtual-smart-card',
  'change-pin',
  'reset-pin',
  'unblock-pin-offline',
  'renew-virtual-smart-card',
  'issue-certificates-to-virtual-smart-card',
  'replace-virtual-smart-card',
];

export interface StartedWords {
  text: string;
  color: 'green' | 'gray' | 'blue';
  /** final: the order has ended; the notice is said once. */
  final: boolean;
}

/**
 * startedNotice is what the page says about a process started for a card, given its order's
 * state: done in the process's own words, ended without completing, or still under way.
 */
export function startedNotice(started: { process: string; serial: string }, state: OrderState): StartedWords {
  const t = i18n.getFixedT(null, 'cards', 'notice');
  const title = processTitle({ name: started.process, displayName: `process.${started.process}.name` });
  const vars = { serial: started.serial, title };
  if (state === 'COMPLETED') {
    const key = DONE_WORDS.includes(started.process) ? started.process : 'other';
    return { text: t(`done.${key}`, vars), color: 'green', final: true };
  }
  if (FINAL.includes(state)) return { text: t('notCompleted', vars), color: 'gray', final: true };
  return { text: t('started', vars), color: 'blue', final: false };
}
