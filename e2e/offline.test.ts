// Unblock PIN offline through the real Desktop App's command line and the portal: the
// Cards page offers it only once the option script enables it; three wrong PINs through
// OpenSC's pkcs11-tool block the card; `vscard-bridge pin unblock --offline` shows the
// card's challenge, which alice types into the portal (as on another device); the portal
// shows the response once, which goes back into the command with a new PIN; pkcs11-tool
// then signs with the new PIN. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { cardMenuItem, closeCardMenu, itemName, openCardMenu } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('offline');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

const PIN = '470215';
const NEW_PIN = '815093';
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** pkcs11 runs OpenSC's pkcs11-tool against the bridge's private pcscd. */
function pkcs11(b: Bridge, args: string[]) {
  const r = spawnSync('pkcs11-tool', ['--module', PKCS11, ...args], { env: b.env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function createCard(page: Page, bin: string): Promise<string> {
  await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
  await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  bridge = await openLinkInBridge(bin, link);
  const pinPage = await page.context().newPage();
  await pinPage.goto(bridge.pinPage);
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  await pinPage.getByLabel('New PIN', { exact: true }).fill(PIN);
  await pinPage.getByLabel('Type it again').fill(PIN);
  const [post] = await Promise.all([
    pinPage.waitForResponse((r) => r.request().method() === 'POST'),
    pinPage.getByRole('button', { name: 'Create my card' }).click(),
  ]);
  assert.ok(post.status() < 400, `the PIN page refused the form (HTTP ${post.status()})`);
  await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
  await pinPage.close();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('order-done').waitFor();
  await page.getByRole('link', { name: 'Show my cards' }).click();
  await page.waitForURL(/\/cards$/);
  return ((await page.getByTestId('card').getByRole('heading').first().textContent()) ?? '').replace(/\D/g, '');
}

test('alice unblocks her blocked PIN offline: the challenge from the command line, the response from the portal', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;
  await withPage(b, srv, 'offline', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');
    const serial = await createCard(page, bridgeBin.bin);
    const actions = await openCardMenu(page, serial);
    await actions.getByRole('menuitem', { name: itemName('Change PIN') }).waitFor();
    assert.equal(await actions.getByRole('menuitem', { name: /Unblock PIN offline/ }).count(), 0, 'offered while the option script leaves it off');
    await closeCardMenu(page);

    await withPage(b, srv, 'offline-admin', async (admin) => {
      await signIn(admin, srv, 'admin', 'admin-demo');
      const { optionScript } = await gql<{ optionScript: { current: { source: string } } }>(admin, '{ optionScript { current { source } } }');
      const source = optionScript.current.source.replace(/^UNBLOCK_PIN_OFFLINE = False/m, 'UNBLOCK_PIN_OFFLINE = True');
      assert.notEqual(source, optionScript.current.source, 'the default script sets UNBLOCK_PIN_OFFLINE');
      await gql(admin, 'mutation($s: String!) { updateOptionScript(source: $s, comment: "offline unblock") { current { version } } }', {
        s: source,
      });
    });

    // Three wrong PINs through OpenSC block the card.
    for (let i = 0; i < 3; i++) {
      assert.notEqual(pkcs11(bridge!, ['-l', '--pin', '111999', '-O']).status, 0, 'a wrong PIN logged in');
    }
    assert.notEqual(pkcs11(bridge!, ['-l', '--pin', PIN, '-O']).status, 0, 'the right PIN works on a blocked card');

    // The computer with the card shows the challenge...
    const cli = bridge!.start(['pin', 'unblock', '--offline', serial, '--stdin']);
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((ok) => cli.once('exit', (code) => ok(code)));
    const challenge = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no challenge from the command line:\n${out}`)), 30_000);
      const look = () => {
        const m = /Challenge: (\S{4}-\S{4}-\S{4})/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(m[1]!);
        }
      };
      cli.stdout.on('data', look);
      void exited.then(() => fail(new Error(`the command line ended before a challenge:\n${out}`)));
    });

    // ...which alice types into the portal, as on another device.
    await page.goto('/cards');
    const unblock = await cardMenuItem(page, serial, 'Unblock PIN offline');
    await unblock.waitFor();
    await unblock.click();
    await page.waitForURL(/\/orders\//);
    await page.getByRole('heading', { name: 'Unblock PIN offline' }).waitFor();
    // A typo is caught by the check symbol and said in words at the field.
    const typo = challenge.slice(0, 5) + (challenge[5] === 'A' ? 'B' : 'A') + challenge.slice(6);
    await page.getByLabel('Challenge').fill(typo);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('The challenge has a typing mistake').waitFor();
    await page.getByLabel('Challenge').fill(challenge.toLowerCase());
    await screenshot(page, '60-unblock-offline-challenge');
    await page.getByRole('button', { name: 'Next' }).click();
    const response = ((await page.getByTestId('unblock-response').textContent()) ?? '').trim();
    assert.match(response, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await screenshot(page, '61-unblock-offline-response');

    // The response and a new PIN go back into the command line; the card takes them.
    cli.stdin.end(`${response}\n${NEW_PIN}\n`);
    const code = await exited;
    assert.equal(code, 0, `pin unblock --offline failed:\n${out}`);
    assert.match(out, new RegExp(`The PIN of card ${serial} is unblocked`));

    // pkcs11-tool signs with the new PIN.
    const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-sign-'));
    writeFileSync(join(dir, 'data'), 'signed after an offline unblock');
    const signed = pkcs11(bridge!, ['-l', '--pin', NEW_PIN, '-s', '-m', 'ECDSA-SHA256', '--id', '01', '-i', join(dir, 'data'), '-o', join(dir, 'sig')]);
    assert.equal(signed.status, 0, `pkcs11-tool could not sign with the new PIN: ${signed.out}`);
  });
});
