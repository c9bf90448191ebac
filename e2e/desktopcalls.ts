// The Desktop App's calls made straight to the server (claim, keys from openssl, confirm), for
// end-to-end tests that need an ACTIVE card but not pcscd; fullflow.test.ts covers the real
// Desktop App.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

import { gql, type Server } from './harness.ts';

/** bridgeCall sends one GraphQL request as the Desktop App would, with its session token. */
export async function bridgeCall<T>(srv: Server, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const res = await fetch(`${srv.url}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data as T;
}

/** csr makes a P-256 key and a PKCS#10 request with openssl, as the card would. */
export function csr(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vscard-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=card', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.pem')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'r.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** activeCard gives the signed-in person an ACTIVE card through the Desktop App's calls and returns its serial. */
export async function activeCard(page: Page, srv: Server): Promise<string> {
  const started = await gql<{ startProcess: { id: string } }>(page, 'mutation { startProcess { id } }');
  const id = started.startProcess.id;
  const next = await gql<{ nextStep: { handoff: { url: string } } }>(page, 'mutation($id: ID!) { nextStep(orderId: $id) { handoff { url } } }', { id });
  const token = new URL(next.nextStep.handoff.url).searchParams.get('token') ?? '';
  const claim = await bridgeCall<{ claimOrder: { sessionToken: string; card: { serial: string; certificates: { slot: string; template: string }[] } } }>(
    srv,
    'mutation($id: ID!, $t: String!) { claimOrder(orderId: $id, token: $t, device: {reader: "Virtual PCD 00 00"}) { sessionToken card { serial certificates { slot template } } } }',
    { id, t: token },
  );
  const session = claim.claimOrder.sessionToken;
  await bridgeCall(srv, 'mutation($id: ID!) { reportCardCreation(orderId: $id) { state } }', { id }, session);
  const keys = claim.claimOrder.card.certificates.map((c) => ({ slot: c.slot, template: c.template, csr: csr() }));
  await bridgeCall(srv, 'mutation($id: ID!, $k: [KeySubmission!]!) { submitCardKeys(orderId: $id, keys: $k) { serial } }', { id, k: keys }, session);
  const serial = claim.claimOrder.card.serial;
  await bridgeCall(srv, 'mutation($id: ID!, $s: String!) { confirmCardReady(orderId: $id, serial: $s, device: {reader: "Virtual PCD 00 00"}) { state } }', { id, s: serial }, session);
  await gql(page, 'mutation($id: ID!) { nextStep(orderId: $id) { order { state } } }', { id });
  return serial;
}
