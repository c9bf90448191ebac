// The bridge's JSON API under the page's secret path (desktop-bridge/pinpage).
import type { Policy } from './rules';

export type Mode = 'choose' | 'change' | 'unblock' | 'verify';

export interface State {
  version: number;
  trust?: { server: string; nonce: string };
  pin?: { nonce: string; problems: { code: string; tries?: number }[] };
  mode: Mode;
  claim?: { server: string; userName: string; verificationCode: string; cardSerial?: string; policy: Policy };
  steps: string[];
  final?: {
    step: 'done' | 'failed' | 'cancelled';
    code?: string;
    serverCode?: string;
    result?: {
      serial: string;
      userName: string;
      validUntil: string;
      certificates: { template: string; subject: string; notAfter: string }[];
    };
  };
}

// The page is served at /<token>/, so its API is relative to it.
const base = window.location.pathname.endsWith('/') ? window.location.pathname : window.location.pathname + '/';

export async function getState(after?: number): Promise<State> {
  const r = await fetch(base + 'state' + (after === undefined ? '' : `?after=${String(after)}`), { cache: 'no-store' });
  if (!r.ok) throw new Error(`state: ${String(r.status)}`);
  return (await r.json()) as State;
}

export async function post(what: 'trust' | 'pin' | 'cancel', body: object): Promise<State> {
  const r = await fetch(base + what, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${what}: ${String(r.status)}`);
  return (await r.json()) as State;
}
