// The session lives in an HttpOnly cookie the SPA never sees; /auth/session tells who is
// signed in. It is a small JSON endpoint outside the GraphQL API, so plain fetch. Signing
// out is a top-level form POST (SignOutForm): the server answers with a redirect to the
// identity provider's end_session endpoint, which carries the ID token as a hint, and
// only the browser follows it: no token reaches page script.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { UNAUTHENTICATED_EVENT } from '../api/client';
import type { UserState } from '../gql/graphql';

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  email: string;
  state: UserState;
  roles: string[];
}

export type Session =
  | { status: 'loading' }
  // httpStatus is the server's answer when it was not 200; none when it could not be reached.
  // The SPA says it in words (App), in the language of the moment.
  | { status: 'error'; httpStatus?: number }
  | { status: 'anonymous' }
  | { status: 'authenticated'; user: SessionUser };

interface SessionContextValue {
  session: Session;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

interface SessionResponse {
  authenticated: boolean;
  user: SessionUser | null;
}

export async function fetchSession(): Promise<Session> {
  const res = await fetch('/auth/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) return { status: 'error', httpStatus: res.status };
  const body = (await res.json()) as SessionResponse;
  return body.authenticated && body.user ? { status: 'authenticated', user: body.user } : { status: 'anonymous' };
}

/** LOGOUT_PATH takes the sign-out form's POST (the browser sends Origin, which the server checks). */
export const LOGOUT_PATH = '/auth/logout';

/** loginUrl is where "Sign in" goes: the server starts the OIDC flow and returns to path. */
export function loginUrl(returnTo: string): string {
  return `/auth/login?return=${encodeURIComponent(returnTo)}`;
}

export function isAdmin(user: SessionUser): boolean {
  return user.roles.includes('admin');
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session>({ status: 'loading' });

  const refresh = useCallback(async () => {
    try {
      setSession(await fetchSession());
    } catch {
      setSession({ status: 'error' });
    }
  }, []);

  useEffect(() => {
    void refresh();
    const onUnauthenticated = () => void refresh();
    window.addEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
  }, [refresh]);

  const value = useMemo(() => ({ session, refresh }), [session, refresh]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}

/** useUser returns the signed-in user; only for components rendered behind the sign-in gate. */
export function useUser(): SessionUser {
  const { session } = useSession();
  if (session.status !== 'authenticated') throw new Error('useUser without a signed-in user');
  return session.user;
}
