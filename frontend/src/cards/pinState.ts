// What the Cards page says of a card's PIN, as a code with words in each language: the
// server stores what the Desktop App reported (pinState), never words.
import type { CardDetailsFragment } from '../gql/graphql';
import type { Language } from '../lib/errors';

/** PIN_BLOCKED: Reset PIN opens the card again. PUK_BLOCKED: it cannot; only a new card helps. */
export type PinStateCode = 'PIN_BLOCKED' | 'PUK_BLOCKED';

export const pinStateWords: Record<Language, Record<PinStateCode, { title: string; body: string }>> = {
  en: {
    PIN_BLOCKED: {
      title: 'PIN blocked — reset it',
      body: 'The PIN was typed wrong too often. Choose Reset PIN below to set a new one in the Desktop App.',
    },
    PUK_BLOCKED: {
      title: 'PIN blocked — this card cannot be reset',
      body:
        "The PIN was typed wrong too often and the card's unblocking code is blocked too, so the PIN cannot be reset. " +
        'Replace the card with a new one (Replace, among the possible actions below).',
    },
  },
};

/** pinStateCode says what to tell of an active card's PIN, if anything. */
export function pinStateCode(card: Pick<CardDetailsFragment, 'state' | 'pinState'>): PinStateCode | undefined {
  const st = card.pinState;
  if (card.state !== 'ACTIVE' || !st?.blocked) return undefined;
  return st.pukBlocked ? 'PUK_BLOCKED' : 'PIN_BLOCKED';
}
