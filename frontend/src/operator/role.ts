import type { SessionUser } from '../auth/session';

/** isOperator: the help desk's console is for operators, and administrators are operators too (as on the server). */
export function isOperator(user: SessionUser): boolean {
  return user.roles.includes('operator') || user.roles.includes('admin');
}
