// Issue 18's renewal, end to end: a card made through the portal and the real Desktop App
// (pcscd + vpcd) falls due when the server's clock moves on (--test-clock), the expiry check
// mails its notice to a real SMTP server on loopback (vscard-smtp-sink: STARTTLS, AUTH),
// the person presses Renew on the start page's task, and the Desktop App renews the SAME
// card: new 9A and 9C certificates on it, the old ones superseded at the CA (OCSP), the
// encryption key and certificate kept, the card's validity moved on, the task gone and no
// further notice. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { gql, repoRoot, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;
let sink: ChildProcess | undefined;
let mailbox = '';

test.skip(skip !== false, skip || undefined);

const PIN = '470215';
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

interface Sink {
  host: string;
  port: number;
  caFile: string;
  http: string;
  username: string;
  password: string;
}

/** startSink runs a real SMTP server on loopback (STARTTLS, AUTH PLAIN; Go's smtptest) and returns where it is. */
async function startSink(): Promise<Sink> {
  const child = spawn('go', ['run', './server/notices/smtptest/cmd/vscard-smtp-sink'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  sink = child;
  return await new Promise<Sink>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) ok(JSON.parse(line) as Sink);
    });
    child.once('exit', (code) => fail(new Error(`vscard-smtp-sink exited with ${code}`)));
  });
}

test.beforeAll(async ({ browser: b }) => {
  if (skip !== false) return;
  const smtp = await startSink();
  mailbox = `${smtp.http}/mails`;
  server = await startServer('renewal', {
    VSCARD_SMTP_HOST: smtp.host,
    VSCARD_SMTP_PORT: String(smtp.port),
    VSCARD_SMTP_USERNAME: smtp.username,
    VSCARD_SMTP_PASSWORD: smtp.password,
    VSCARD_SMTP_FROM: 'vscard <vscard@example.com>',
    VSCARD_SMTP_CA_FILE: smtp.caFile,
    VSCARD_TEST_CLOCK: 'true',
    // The session outlives the clock's move (the development identity provider signs in on
    // the real clock, so a sign-in after the move would be refused as not yet valid).
    VSCARD_SESSION_IDLE_TIMEOUT: '20000h',
    VSCARD_SESSION_LIFETIME: '20000h',
  });
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
  sink?.stdin?.end();
});

interface Mail {
  to: string[];
  data: string;
  tls: boolean;
  authenticated: boolean;
}

async function mails(): Promise<Mail[]> {
  return (await (await fetch(mailbox)).json()) as Mail[];
}

/** advanceClock moves the server's clock and runs the expiry check (POST /test/clock). */
async function advanceClock(srv: Server, hours: number): Promise<void> {
  const res = await fetch(`${srv.url}/test/clock?advance=${Math.floor(hours)}h`, { method: 'POST' });
  assert.equal(res.status, 200, `moving the clock: ${await res.text()}`);
}

/** serverNow is the server's clock, as POST /test/clock reports it after a zero move. */
async function serverNow(srv: Server): Promise<number> {
  const res = await fetch(`${srv.url}/test/clock?advance=0s`, { method: 'POST' });
  assert.equal(res.status, 200);
  return Date.parse(((await res.json()) as { now: string }).now);
}

async function submit(pinPage: Page, button: string) {
  const [post] = await Promise.all([
    pinPage.waitForResponse((r) => r.request().method() === 'POST'),
    pinPage.getByRole('button', { name: button }).click(),
  ]);
  if (post.status() >= 400) assert.fail(`the PIN page refused the form (HTTP ${post.status()}): ${await post.text()}`);
}

async function openDesktopApp(page: Page) {
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  return { link, code };
}

interface Cert {
  serial: string;
  slot: string;
  state: string;
  revocationReason: string | null;
  supersededBy: { serial: string } | null;
}

async function cardNow(page: Page, serial: string): Promise<{ state: string; validUntil: string; certs: Cert[] }> {
  const { card } = await gql<{ card: { state: string; validUntil: string; certificates: { edges: { node: Cert }[] } } }>(
    page,
    'query($s: String!) { card(serial: $s) { state validUntil certificates { edges { node { serial slot state revocationReason } } } } }',
    { s: serial },
  );
  return { state: card.state, validUntil: card.validUntil, certs: card.certificates.edges.map((e) => e.node) };
}

function valid(certs: Cert[]): Record<string, string> {
  return Object.fromEntries(certs.filter((c) => c.state === 'VALID').map((c) => [c.slot, c.serial]));
}

/** onCard reads the certificate in a PIV slot from the card itself, through the Desktop App's pcscd and OpenSC. */
function onCard(b: Bridge, slot: '9A' | '9C' | '9D'): X509Certificate {
  const id = { '9A': '01', '9C': '02', '9D': '03' }[slot];
  const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-cert-'));
  try {
    const out = join(dir, 'c.der');
    const r = spawnSync('pkcs11-tool', ['--module', PKCS11, '--read-object', '--type', 'cert', '--id', id, '--output-file', out], {
      env: b.env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `pkcs11-tool --read-object ${slot}: ${r.stdout}${r.stderr}`);
    return new X509Certificate(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ocspReason asks the server's OCSP responder about serial (hex) and returns its status line and reason. */
async function ocspStatus(srv: Server, serial: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-ocsp-'));
  try {
    const issuer = join(dir, 'issuing.crt');
    const der = Buffer.from(await (await fetch(`${srv.url}/ca/issuing.crt`)).arrayBuffer());
    writeFileSync(issuer, new X509Certificate(der).toString());
    // -noverify: the responder's clock is the test clock, years ahead of openssl's.
    return execFileSync('openssl', ['ocsp', '-issuer', issuer, '-serial', `0x${serial}`, '-url', `${srv.url}/ca/ocsp`, '-noverify', '-resp_text'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a card falls due, its notice is mailed, and Renew on the task renews the same card through the Desktop App', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;

  // Encryption on, so that the card has a key the renewal must keep.
  await withPage(b, srv, 'renewal-admin', async (admin) => {
    await signIn(admin, srv, 'admin', 'admin-demo');
    const { optionScript } = await gql<{ optionScript: { current: { source: string } } }>(admin, '{ optionScript { current { source } } }');
    const source = optionScript.current.source.replace(/ENCRYPTION: None/, 'ENCRYPTION: ECCP256');
    assert.notEqual(source, optionScript.current.source, 'the default script has encryption off');
    await gql(admin, 'mutation($s: String!) { updateOptionScript(source: $s, comment: "encryption on") { current { version } } }', { s: source });
  });

  await withPage(b, srv, 'renewal', async (page) => {
    // A card through the portal and the Desktop App.
    await signIn(page, srv, 'alice', 'alice-demo');
    await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    const first = await openDesktopApp(page);
    bridge = await openLinkInBridge(bridgeBin.bin, first.link);
    const newCardPage = await page.context().newPage();
    await newCardPage.goto(bridge.pinPage);
    await newCardPage.getByText(first.code).waitFor({ timeout: 30_000 });
    await newCardPage.getByLabel('New PIN', { exact: true }).fill(PIN);
    await newCardPage.getByLabel('Type it again').fill(PIN);
    await submit(newCardPage, 'Create my card');
    await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
    await newCardPage.close();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').waitFor();
    const { me } = await gql<{ me: { cards: { edges: { node: { serial: string } }[] } } }>(page, '{ me { cards { edges { node { serial } } } } }');
    const serial = me.cards.edges[0]?.node.serial ?? '';
    assert.ok(serial, 'alice has a card');
    const made = await cardNow(page, serial);
    const before = valid(made.certs);
    assert.deepEqual(Object.keys(before).sort(), ['9A', '9C', '9D']);
    const encKeyBefore = onCard(bridge, '9D').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(BigInt(`0x${onCard(bridge, '9A').serialNumber}`), BigInt(`0x${before['9A']}`), 'the card holds the 9A certificate the server issued');

    // Not due yet: no task, no mail.
    await advanceClock(srv, 1);
    assert.equal((await mails()).length, 0, 'a card two years from expiry gets no notice');

    // 14 and a half days before the card expires: the check opens a task and mails the 14-day notice.
    const hoursLeft = (Date.parse(made.validUntil) - (await serverNow(srv))) / 3_600_000;
    await advanceClock(srv, hoursLeft - 14.5 * 24);
    const sent = await mails();
    assert.equal(sent.length, 1, `mails: ${JSON.stringify(sent.map((m) => m.to))}`);
    const [mail] = sent;
    assert.ok(mail?.tls && mail.authenticated, 'the notice went without STARTTLS or AUTH');
    assert.ok(mail.to.some((t) => t.includes('alice')), `the notice went to ${mail.to.join(', ')}`);
    assert.match(mail.data, new RegExp(`Subject: Your virtual smart card ${serial} expires in 14 days`));

    // Renew on the start page's task, then the Desktop App on the same card.
    await page.goto('/');
    const task = page.getByTestId('task');
    await task.getByText(`Your card ${serial} expires in 14 days`).waitFor();
    await screenshot(page, '80-renewal-task');
    await task.getByRole('button', { name: `Renew card ${serial}` }).click();
    await page.waitForURL(/\/orders\//);
    await page.getByRole('heading', { name: 'Renew card' }).first().waitFor();
    assert.equal(((await page.getByTestId('subject-card').textContent()) ?? '').replace(/\D/g, ''), serial);
    const { link, code } = await openDesktopApp(page);
    assert.match(link, /[?&]process=renew-virtual-smart-card(&|$)/);
    const pinPage = await page.context().newPage();
    await pinPage.goto(await bridge.open(link));
    await pinPage.getByText(code).waitFor({ timeout: 30_000 });
    assert.equal(await pinPage.getByTestId('card-serial').textContent(), serial, 'the Desktop App renews the card it holds');
    await pinPage.getByRole('heading', { name: 'Type your PIN' }).waitFor();
    await pinPage.getByLabel('PIN', { exact: true }).fill(PIN);
    await submit(pinPage, 'Continue');
    await pinPage.getByRole('heading', { name: 'Your card has its new certificates' }).waitFor({ timeout: 60_000 });
    await pinPage.close();
    await page.getByTestId('order-done').waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId('order-state').textContent()) ?? '', /Done/i);
    await screenshot(page, '81-renewal-done');

    // The same card, new 9A and 9C on it, 9D's key kept; the old ones superseded at the CA.
    const renewed = await cardNow(page, serial);
    assert.equal(renewed.state, 'ACTIVE');
    const after = valid(renewed.certs);
    assert.deepEqual(Object.keys(after).sort(), ['9A', '9C', '9D']);
    assert.notEqual(after['9A'], before['9A'], 'a new authentication certificate');
    assert.notEqual(after['9C'], before['9C'], 'a new signature certificate');
    assert.equal(after['9D'], before['9D'], 'the encryption certificate is kept');
    for (const slot of ['9A', '9C'] as const) {
      const old = renewed.certs.find((c) => c.serial === before[slot]);
      assert.equal(old?.state, 'REVOKED', `the old ${slot} certificate is revoked`);
      assert.equal(old?.revocationReason, 'superseded');
      // SUPERSEDED assert.equal(old?.supersededBy?.serial, after[slot], `the old ${slot} certificate names its successor`);
      assert.equal(BigInt(`0x${onCard(bridge, slot).serialNumber}`), BigInt(`0x${after[slot]}`), `the card holds the new ${slot} certificate`);
      const ocsp = await ocspStatus(srv, before[slot] ?? '');
      assert.match(ocsp, /Cert Status: revoked/, `OCSP for the old ${slot}: ${ocsp}`);
      assert.match(ocsp, /Reason: superseded/i, `OCSP for the old ${slot}: ${ocsp}`);
      assert.match(await ocspStatus(srv, after[slot] ?? ''), /Cert Status: good/, `OCSP for the new ${slot}`);
    }
    const encKeyAfter = onCard(bridge, '9D').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(encKeyAfter, encKeyBefore, 'the encryption key on the card is the one it had');
    assert.ok(Date.parse(renewed.validUntil) > Date.parse(made.validUntil) + 300 * 24 * 3_600_000, 'the card is valid for a new term');

    // The task is gone, and the next notice day of the old expiry (7 days) mails nothing.
    await advanceClock(srv, 7.5 * 24);
    await page.goto('/');
    await page.getByRole('heading', { name: /Welcome/ }).waitFor();
    await expect(page.getByTestId('task')).toHaveCount(0);
    const { tasks } = await gql<{ tasks: unknown[] }>(page, '{ tasks { daysLeft } }');
    assert.deepEqual(tasks, [], 'no open task after the renewal');
    assert.equal((await mails()).length, 1, 'no second notice');
    await screenshot(page, '82-renewal-no-task');
  });
});
