// Lock and unlock from the portal: alice locks her card from its Possible actions and sees
// it LOCKED with its certificates on hold; an administrator unlocks it from the Users page.
// The card is made through the server's own Desktop App calls (claim, keys from openssl,
// confirm), so this file needs no pcscd; fullflow.test.ts covers the real Desktop App.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Browser, type Page } from '@playwright/test';

import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('cardlock');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

/** bridgeCall sends one GraphQL request as the Desktop App would, with its session token. */
async function bridgeCall<T>(srv: Server, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
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
function csr(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vscard-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=card', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.pem')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'r.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** activeCard gives alice an ACTIVE card through the Desktop App's calls and returns its serial. */
async function activeCard(page: Page, srv: Server): Promise<string> {
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

interface CardState {
  card: { state: string; certificates: { edges: { node: { state: string; revocationReason: string | null } }[] } };
}
const qCard = 'query($s: String!) { card(serial: $s) { state certificates { edges { node { state revocationReason } } } } }';

test('alice locks her card from the Cards page; an administrator unlocks it', async () => {
  if (!server || !browser) return;
  const srv = server;
  const b = browser;
  let serial = '';
  await withPage(b, srv, 'cardlock-alice', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');
    serial = await activeCard(page, srv);
    await page.goto('/cards');
    const card = page.getByRole('article', { name: `Card ${serial}` });
    await card.waitFor();
    await page.getByRole('button', { name: `Lock card (card ${serial})`, exact: true }).click();
    await page.getByRole('heading', { name: 'Lock card' }).waitFor();
    const hold = page.getByLabel('Also put the encryption certificate on hold');
    assert.equal(await hold.isChecked(), true, 'holding the encryption certificate is the default');
    await screenshot(page, '60-lock-intro');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').getByText(`Card ${serial} is locked`).waitFor();
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.getByTestId('card-locked').waitFor();
    await page.getByRole('article', { name: `Card ${serial}` }).getByLabel('Card state: Locked').waitFor();
    await screenshot(page, '61-card-locked');
    const got = await gql<CardState>(page, qCard, { s: serial });
    assert.equal(got.card.state, 'LOCKED');
    for (const e of got.card.certificates.edges) {
      assert.equal(e.node.state, 'ON_HOLD');
      assert.equal(e.node.revocationReason, 'certificateHold');
    }
    // The default option script leaves unlocking to an administrator: no Unlock for alice.
    assert.equal(await page.getByRole('button', { name: `Unlock card (card ${serial})` }).isEnabled().catch(() => false), false);
  });

  await withPage(b, srv, 'cardlock-admin', async (page) => {
    await signIn(page, srv, 'admin', 'admin-demo');
    await page.goto('/admin/users');
    await page.getByRole('button', { name: `Unlock card ${serial} of alice` }).click();
    await page.getByRole('heading', { name: 'Unlock card' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').getByText(`Card ${serial} is active again`).waitFor();
    await screenshot(page, '62-card-unlocked');
    const got = await gql<CardState>(page, qCard, { s: serial });
    assert.equal(got.card.state, 'ACTIVE');
    for (const e of got.card.certificates.edges) assert.equal(e.node.state, 'VALID');
  });
});
