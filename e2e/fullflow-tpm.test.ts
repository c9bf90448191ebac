// Get virtual smart card when the organisation requires the keys in a TPM: the
// administrator sets KEY_PROTECTION = "TPM", and the real Desktop App (vscard-bridge --tpm)
// makes the card's keys in a TPM 2.0 — a private swtpm (swtpm.ts) whose maker the server
// trusts (VSCARD_TPM_ROOTS) — and proves it with each key. The card ends ACTIVE, the portal
// and cardStatus say the keys are in the TPM, and OpenSC signs with the PIN through PKCS#11
// over the bridge's pcscd. A Desktop App without a TPM gets no card, and the person reads
// why in words. Needs VSCARD_BRIDGE_BIN (see bridge.ts) and swtpm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { createCard, setOption, startOrder } from './getcard.ts';
import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { startSwtpm, swtpmMissing, type SoftwareTPM } from './swtpm.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : swtpmMissing();

let tpm: SoftwareTPM | undefined;
let server: Server | undefined;
let browser: Browser | undefined;

// Without a bridge (or what its private pcscd needs) or swtpm the file's tests are skipped, with why.
test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  tpm = await startSwtpm('fullflow-tpm');
  server = await startServer('fullflow-tpm', { VSCARD_TPM_ROOTS: tpm.rootsFile });
  browser = b;
  await withPage(b, server, 'tpm-admin', async (admin) => {
    await signIn(admin, server as Server, 'admin', 'admin-demo');
    await setOption(admin, /^KEY_PROTECTION = \w+$/m, 'KEY_PROTECTION = "TPM"', 'keys in the TPM only');
  });
});

test.afterAll(async () => {
  await server?.stop();
  await tpm?.stop();
});

const PIN = '470215';
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const IN_TPM = "In the computer's TPM (verified)";

/** keysHeld is what the card's details say under "Keys held". */
async function keysHeld(page: Page): Promise<string> {
  const row = page.getByTestId('card').getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Keys held' }) });
  return ((await row.getByRole('cell').textContent()) ?? '').trim();
}

/** pkcs11 runs OpenSC's pkcs11-tool against the bridge's private pcscd. */
function pkcs11(b: Bridge, args: string[]) {
  const r = spawnSync('pkcs11-tool', ['--module', PKCS11, ...args], { env: b.env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface CardStatusData {
  cardStatus: { state: string; keyProtection: string; certificates: { slot: string; state: string }[] };
}

test('alice gets a virtual smart card whose keys live in the TPM', async () => {
  if (!server || !browser || !tpm || 'skip' in bridgeBin) return;
  const srv = server;
  const socket = tpm.socket;
  let bridge: Bridge | undefined;
  try {
    await withPage(browser, srv, 'fullflow-tpm', async (page) => {
      const { link, code } = await startOrder(page, srv, 'alice', 'alice-demo');
      bridge = await openLinkInBridge(bridgeBin.bin, link, { tpmDevice: socket });
      const pinPage = await page.context().newPage();
      await pinPage.goto(bridge.pinPage);
      await pinPage.getByText(code).waitFor({ timeout: 30_000 });
      await createCard(pinPage, PIN);

      // The wizard follows the bridge as it makes the keys in the TPM and proves them.
      await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
      assert.equal(await keysHeld(page), IN_TPM, 'the new card says its keys are in the TPM');
      await screenshot(page, 'tpm-21-wizard-card-ready');
      await pinPage.close();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByTestId('order-done').waitFor();

      await page.getByRole('link', { name: 'Show my cards' }).click();
      await page.waitForURL(/\/cards$/);
      const listed = page.getByTestId('card');
      await listed.first().waitFor();
      assert.equal(await listed.count(), 1);
      assert.equal(await listed.getByLabel(/Card state/).textContent(), 'Ready to use');
      assert.equal(await keysHeld(page), IN_TPM, 'the Cards page says the keys are in the TPM');
      assert.equal(await listed.getByText(/TPM_ATTESTED|KeyProtection/).count(), 0, 'no enum name on the page');
      await screenshot(page, 'tpm-24-cards');

      // What a third-party portal asks: the card is good, and its keys are in a TPM the server verified.
      const { me } = await gql<{ me: { cards: { edges: { node: { serial: string } }[] } } }>(page, '{ me { cards { edges { node { serial } } } } }');
      const serial = me.cards.edges[0]?.node.serial ?? '';
      const { cardStatus } = await gql<CardStatusData>(page, 'query($s: String!) { cardStatus(serial: $s) { state keyProtection certificates { slot state } } }', {
        s: serial,
      });
      assert.equal(cardStatus.state, 'ACTIVE');
      assert.equal(cardStatus.keyProtection, 'TPM_ATTESTED');
      assert.ok(cardStatus.certificates.length >= 1 && cardStatus.certificates.every((c) => c.state === 'VALID'), JSON.stringify(cardStatus.certificates));

      // On the desktop, the card file holds TPM-wrapped keys that need the PIN.
      const b = bridge as Bridge;
      const card = readFileSync(join(b.cardDir, `${serial}.card`), 'utf8');
      assert.ok(card.includes('"inTPM":true,"pinBound":true'), 'the card file holds PIN-bound TPM keys');

      // OpenSC signs with the PIN through PKCS#11 (pcscd, vpcd, the card, the TPM), and the
      // signature verifies against the authentication certificate the server issued.
      const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-tpm-sign-'));
      try {
        const data = Buffer.from('signed by a key in the TPM');
        writeFileSync(join(dir, 'data'), data);
        const signed = pkcs11(b, ['-l', '--pin', PIN, '-s', '-m', 'ECDSA-SHA256', '--id', '01', '-i', join(dir, 'data'), '-o', join(dir, 'sig')]);
        assert.equal(signed.status, 0, `pkcs11-tool could not sign with the PIN: ${signed.out}`);
        const read = pkcs11(b, ['--read-object', '--type', 'cert', '--id', '01', '--output-file', join(dir, 'cert.der')]);
        assert.equal(read.status, 0, `pkcs11-tool could not read the authentication certificate: ${read.out}`);
        const cert = new X509Certificate(readFileSync(join(dir, 'cert.der')));
        const key = createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' }));
        assert.ok(verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, readFileSync(join(dir, 'sig'))), 'the signature verifies against the 9A certificate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    await (bridge as Bridge | undefined)?.stop();
  }
});

test('a Desktop App without a TPM gets no card, and the person reads why', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  let bridge: Bridge | undefined;
  try {
    await withPage(browser, srv, 'fullflow-tpm-refused', async (page) => {
      const { link, code } = await startOrder(page, srv, 'carol', 'carol-demo');
      bridge = await openLinkInBridge(bridgeBin.bin, link);
      const pinPage = await page.context().newPage();
      await pinPage.goto(bridge.pinPage);
      await pinPage.getByText(code).waitFor({ timeout: 30_000 });
      await createCard(pinPage, PIN);

      // The Desktop App's page says what to do about it ...
      const refused = pinPage.getByTestId('run-ended');
      await refused.waitFor({ timeout: 120_000 });
      const told = (await refused.textContent()) ?? '';
      assert.match(told, /Your organisation requires the card's keys to be in this computer's TPM/);
      assert.doesNotMatch(told, /TPM_EVIDENCE_MISSING|INVALID_INPUT/);
      await screenshot(pinPage, 'tpm-25-bridge-refused');
      // ... and so does the portal, live: words, neither the server's code nor a state name.
      const ended = page.getByTestId('order-ended');
      await ended.waitFor({ timeout: 60_000 });
      const words = (await ended.textContent()) ?? '';
      assert.match(words, /Your organisation requires the card's keys to be in the computer's TPM/);
      assert.doesNotMatch(words, /TPM_EVIDENCE_MISSING|INVALID_INPUT|FAILED|desktop-app:/);
      await screenshot(page, 'tpm-26-wizard-refused');

      const data = await gql<{ me: { cards: { totalCount: number } } }>(page, '{ me { cards { totalCount } } }');
      assert.equal(data.me.cards.totalCount, 0, 'carol has no card');
      assert.equal((await (bridge as Bridge).cards()).length, 0, 'the refused card left the desktop');
    });
  } finally {
    await (bridge as Bridge | undefined)?.stop();
  }
});
