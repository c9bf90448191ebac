// Reset PIN through the real Desktop App: three wrong PINs through OpenSC's pkcs11-tool
// block the card; the Desktop App reports it and the Cards page says "PIN blocked — reset
// it"; Reset PIN from the card's menu asks for a new PIN twice in the Desktop
// App, which unblocks the card with the server's PUK; pkcs11-tool then signs with the new
// PIN. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { cardMenuItem } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('resetpin');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

const PIN = '470215';
const NEW_PIN = '913572';
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** pkcs11 runs OpenSC's pkcs11-tool against the bridge's private pcscd. */
function pkcs11(b: Bridge, args: string[]) {
  const r = spawnSync('pkcs11-tool', ['--module', PKCS11, ...args], { env: b.env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
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

async function startReset(page: Page, serial: string) {
  await page.goto('/cards');
  const reset = await cardMenuItem(page, serial, 'Reset PIN');
  await reset.waitFor();
  await reset.click();
  await page.waitForURL(/\/orders\//);
  await page.getByRole('heading', { name: 'Reset PIN' }).waitFor();
  const { link, code } = await openDesktopApp(page);
  assert.match(link, /[?&]process=reset-pin(&|$)/);
  const pinPage = await page.context().newPage();
  await pinPage.goto(await bridge!.open(link));
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  await page.getByText('Desktop App connected: choose your new PIN there').waitFor();
  return pinPage;
}

test('alice blocks her PIN with pkcs11-tool and resets it through the Desktop App', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  await withPage(browser, srv, 'resetpin', async (page) => {
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
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.waitForURL(/\/cards$/);
    const serial = ((await page.getByTestId('card').getByRole('heading').first().textContent()) ?? '').replace(/\D/g, '');

    // Three wrong PINs through OpenSC block the card.
    for (let i = 0; i < 3; i++) {
      const r = pkcs11(bridge, ['-l', '--pin', '111999', '-O']);
      assert.notEqual(r.status, 0, `a wrong PIN logged in: ${r.out}`);
    }
    assert.notEqual(pkcs11(bridge, ['-l', '--pin', PIN, '-O']).status, 0, 'the right PIN works on a blocked card');

    // The Desktop App reports the blocked PIN as soon as it has the card; cancelling there
    // changes nothing, and the Cards page now says so.
    const looked = await startReset(page, serial);
    await looked.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('order-ended').waitFor({ timeout: 60_000 });
    await page.goto('/cards');
    await page.getByText('PIN blocked — reset it').waitFor({ timeout: 30_000 });
    await screenshot(page, '50-cards-pin-blocked');

    const pinPage = await startReset(page, serial);
    await pinPage.getByLabel('New PIN', { exact: true }).fill(NEW_PIN);
    await pinPage.getByLabel('Type it again').fill(NEW_PIN);
    await screenshot(pinPage, '51-bridge-reset-pin');
    await submit(pinPage, 'Unblock my card');
    await page.getByTestId('order-done').waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId('order-done').textContent()) ?? '', new RegExp(`Card ${serial} now takes the new PIN`));
    await screenshot(page, '52-reset-pin-done');

    await page.goto('/cards');
    await page.getByTestId('card').first().waitFor();
    assert.equal(await page.getByText('PIN blocked — reset it').count(), 0, 'the Cards page no longer says blocked');

    // pkcs11-tool signs with the new PIN.
    const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-sign-'));
    writeFileSync(join(dir, 'data'), 'signed after Reset PIN');
    const signed = pkcs11(bridge, ['-l', '--pin', NEW_PIN, '-s', '-m', 'ECDSA-SHA256', '--id', '01', '-i', join(dir, 'data'), '-o', join(dir, 'sig')]);
    assert.equal(signed.status, 0, `pkcs11-tool could not sign with the new PIN: ${signed.out}`);
  });
});
