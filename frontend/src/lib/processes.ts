// The server names a process's title, description and why it cannot be started with keys
// and codes (graph/schema.graphqls, type Process); the words a person reads are here.
import type { ProcessUnavailableReason, UserState } from '../gql/graphql';

const texts: Record<string, string> = {
  'process.get-virtual-smart-card.name': 'Get virtual smart card',
  'process.get-virtual-smart-card.description':
    'Create a virtual smart card on this computer, protected by a PIN you choose, with certificates from your organisation.',
  'process.change-pin.name': 'Change PIN',
  'process.change-pin.description': 'Choose a new PIN for this card in the Desktop App. You need the current one.',
  'process.reset-pin.name': 'Reset PIN',
  'process.reset-pin.description':
    'Forgot the PIN, or typed it wrong too often? Choose a new one in the Desktop App; you do not need the old one.',
  'process.lock-virtual-smart-card.name': 'Lock card',
  'process.lock-virtual-smart-card.description':
    'Stop the card working for now, e.g. while the computer is missing: its certificates are put on hold until it is unlocked.',
  'process.unlock-virtual-smart-card.name': 'Unlock card',
  'process.unlock-virtual-smart-card.description': 'Make the locked card work again: its certificates are valid again.',
  'process.unblock-pin-offline.name': 'Unblock PIN offline',
  'process.unblock-pin-offline.description':
    'PIN blocked on a computer that cannot reach this portal? Type the challenge it shows here, and the response from here there.',
  'process.renew-virtual-smart-card.name': 'Renew card',
  'process.renew-virtual-smart-card.description':
    'New certificates for signing in and signatures on the same card before it expires. Your PIN and your encryption certificate stay.',
  'process.issue-certificates-to-virtual-smart-card.name': 'Add certificates',
  'process.issue-certificates-to-virtual-smart-card.description':
    'Your organisation now gives a certificate this card lacks (for example for encrypting e-mail): add it to the card without a new one.',
  'process.replace-virtual-smart-card.name': 'Replace card',
  'process.replace-virtual-smart-card.description':
    'Computer lost, stolen or broken? Get a new card on this computer; the old one stops working.',
  'process.delete-virtual-smart-card.name': 'Delete card',
  'process.delete-virtual-smart-card.description':
    'No longer need this card? It stops working for good, its certificates are revoked, and it leaves your computer.',
};

/** processText gives the words for a process's name or description key. */
export function processText(key: string, fallback: string): string {
  return texts[key] ?? fallback;
}

/** processTitle is a process's name in words; a process this portal does not know yet shows its symbolic name made readable. */
export function processTitle(p: { name: string; displayName: string }): string {
  const readable = p.name.replace(/-/g, ' ');
  return processText(p.displayName, readable.charAt(0).toUpperCase() + readable.slice(1));
}

/** processDescription is a process's one-line description in words, or nothing. */
export function processDescription(p: { description: string }): string {
  return processText(p.description, '');
}

/**
 * unavailableText says why a process cannot be started. For USER_NOT_ACTIVE it names the
 * person's own state when the portal knows it.
 */
export function unavailableText(reason: ProcessUnavailableReason | null | undefined, userState?: UserState, process?: string): string {
  // Unlocking is an administrator's unless the option script lets people unlock their own.
  if (reason === 'NOT_PERMITTED' && process === 'unlock-virtual-smart-card') return 'Ask an administrator to unlock this card.';
  switch (reason) {
    case 'USER_NOT_ACTIVE':
      switch (userState) {
        case 'REGISTERED':
          return 'Your account is registered but not yet active. An administrator must activate it before you can get a card.';
        case 'LOCKED':
          return 'Your account is locked. Contact an administrator.';
        case 'INACTIVE':
          return 'Your account is inactive. Only active users can get a virtual smart card; contact an administrator.';
        default:
          return 'The account is not active (it is inactive, locked or not yet activated). An administrator must activate it first.';
      }
    case 'CARD_NOT_IN_REQUIRED_STATE':
      return 'The card is not in a state this can be done in.';
    case 'ORDER_RUNNING':
      return 'An order is already in progress. Continue or cancel it first.';
    case 'NOT_PERMITTED':
      return 'You may not do this here.';
    case 'NOTHING_TO_ISSUE':
      return 'The card already has every certificate your organisation gives.';
    case 'PUK_BLOCKED':
      return "The card's unblocking code is blocked too, so the PIN cannot be reset. Replace the card instead.";
    default:
      return 'This process cannot be started from this portal.';
  }
}
