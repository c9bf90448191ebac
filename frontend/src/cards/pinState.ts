// What the Cards page says of a card's PIN, as a code with words in each language (locales/*/cards.json): the
// server stores what the Desktop App reported (pinState), never words.
import type { CardDetailsFragment } from '../gql/graphql';

/** PIN_BLOCKED: Reset PIN opens the card again. PUK_BLOCKED: it cannot; only a new card helps. */
export type PinStateCode = 'PIN_BLOCKED' | 'PUK_BLOCKED';

/** pinStateKey is the catalogue key (namespace cards) of a PIN state's title or body. */
export function pinStateKey(code: PinStateCode, part: 'title' | 'body'): string {
  return `cards:pinState.${code}.${part}`;
}

/** pinStateCode says what to tell of an active card's PIN, if anything. */
export function pinStateCode(card: Pick<CardDetailsFragment, 'state' | 'pinState'>): PinStateCode | undefined {
  const st = card.pinState;
  if (card.state !== 'ACTIVE' || !st?.blocked) return undefined;
  return st.pukBlocked ? 'PUK_BLOCKED' : 'PIN_BLOCKED';
}
