// The server names a process's title, description and why it cannot be started with keys
// and codes (graph/schema.graphqls, type Process); the words a person reads are in locales/*/processes.json.
import type { ProcessUnavailableReason, UserState } from '../gql/graphql';
import i18n from '../i18n';

/**
 * processText gives the words for a process's name or description key (the server's keys,
 * such as process.get-virtual-smart-card.name, are keys of the processes namespace).
 */
export function processText(key: string, fallback: string): string {
  return key !== '' && i18n.exists(`processes:${key}`) ? i18n.t(`processes:${key}`) : fallback;
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
  const words = (key: string) => i18n.t(`processes:unavailable.${key}`);
  // Unlocking is an administrator's unless the option script lets people unlock their own.
  if (reason === 'NOT_PERMITTED' && process === 'unlock-virtual-smart-card') return words('unlockAskAdmin');
  switch (reason) {
    case 'USER_NOT_ACTIVE':
      switch (userState) {
        case 'REGISTERED':
          return words('userRegistered');
        case 'LOCKED':
          return words('userLocked');
        case 'INACTIVE':
          return words('userInactive');
        default:
          return words('userNotActive');
      }
    case 'CARD_NOT_IN_REQUIRED_STATE':
    case 'ORDER_RUNNING':
    case 'NOT_PERMITTED':
    case 'NOTHING_TO_ISSUE':
    case 'PUK_BLOCKED':
      return words(reason);
    default:
      return words('other');
  }
}
