// The session lives in an HttpOnly cookie the SPA never sees; /auth/session tells who is
// signed in. These two small JSON endpoints are outside the GraphQL API, so plain fetch.
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
  | { status: 'error'; message: string }
  | { status: 'anonymous' }
  | { status: 'authenticated'; user: SessionUser };

interface SessionContextValue {
  session: Session;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

interface SessionResponse {
  authenticated: boolean;
  user: SessionUser | null;
}

export async function fetchSession(): Promise<Session> {
  const res = await fetch('/auth/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) return { status: 'error', message: `The server answered ${res.status}.` };
  const body = (await res.json()) as SessionResponse;
  return body.authenticated && body.user ? { status: 'authenticated', user: body.user } : { status: 'anonymous' };
}

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
      setSession({ status: 'error', message: 'The server cannot be reached.' });
    }
  }, []);

  const signOut = useCallback(async () => {
    // JSON content type satisfies the server's CSRF rule for cookie-authenticated POSTs.
    await fetch('/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    });
    // A full page load drops every cached query and the WebSocket of the old session.
    window.location.assign('/');
  }, []);

  useEffect(() => {
    void refresh();
    const onUnauthenticated = () => void refresh();
    window.addEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
  }, [refresh]);

  const value = useMemo(() => ({ session, refresh, signOut }), [session, refresh, signOut]);
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
