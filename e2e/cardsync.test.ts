// The Desktop App follows its cards (issue 17 §4, issue 18 §4): three wrong PINs through
// OpenSC's pkcs11-tool block a card and the Cards page says "PIN blocked — reset it"
// without any order (the Desktop App reports the PIN state, proved with the card's
// management key); then, with both of the desktop's virtual readers holding a card, a
// card revoked in the portal leaves the desktop and frees its reader, and the next order
// succeeds. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { cardAction, cardMenuItem, closeCardMenu } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('cardsync');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

const PIN = '470215';
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

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

/** getCard runs Get virtual smart card through the Desktop App and returns the new card's serial. */
async function getCard(page: Page, bin: string): Promise<string> {
  await page.goto('/');
  await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
  await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  let pinPageURL: string;
  if (!bridge) {
    bridge = await openLinkInBridge(bin, link);
    pinPageURL = bridge.pinPage;
  } else {
    pinPageURL = await bridge.open(link);
  }
  const pinPage = await page.context().newPage();
  await pinPage.goto(pinPageURL);
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  await pinPage.getByLabel('New PIN', { exact: true }).fill(PIN);
  await pinPage.getByLabel('Type it again').fill(PIN);
  await submit(pinPage, 'Create my card');
  await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
  await pinPage.close();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('order-done').waitFor();
  const text = (await page.getByTestId('order-done').textContent()) ?? '';
  const serial = /\b(\d{8})\b/.exec(text)?.[1];
  if (serial) return serial;
  // The summary may not name it: the newest card is listed first.
  await page.goto('/cards');
  return ((await page.getByTestId('card').getByRole('heading').first().textContent()) ?? '').replace(/\D/g, '');
}

async function desktopSerials(b: Bridge): Promise<string[]> {
  return (await b.cards()).map((c) => String((c as { serial: number }).serial));
}

test('the Desktop App reports a blocked PIN, and a revoked card leaves the desktop for the next one', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const bin = bridgeBin.bin;
  await withPage(browser, srv, 'cardsync', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');
    const first = await getCard(page, bin);
    assert.match(first, /^\d{8}$/);

    // (a) Three wrong PINs through OpenSC block the card. No order runs: the Desktop App
    // sees the counter change and tells the server, and the open Cards page follows the
    // card's cardUpdated events.
    await page.goto('/cards');
    await page.getByTestId('card').first().waitFor();
    assert.equal(await page.getByText('PIN blocked — reset it').count(), 0, 'a fresh card is not blocked');
    for (let i = 0; i < 3; i++) {
      const r = pkcs11(bridge!, ['-l', '--pin', '111999', '-O']);
      assert.notEqual(r.status, 0, `a wrong PIN logged in: ${r.out}`);
    }
    const blocked = page.getByTestId('pin-blocked');
    await blocked.waitFor({ timeout: 60_000 });
    assert.equal(await blocked.getAttribute('data-code'), 'PIN_BLOCKED');
    await page.getByText('PIN blocked — reset it').waitFor();
    await (await cardMenuItem(page, first, 'Reset PIN')).waitFor();
    await screenshot(page, '60-cards-pin-blocked-by-sync');
    await closeCardMenu(page);

    // (b) A second card fills the desktop's other reader.
    const second = await getCard(page, bin);
    assert.notEqual(second, first);
    assert.deepEqual((await desktopSerials(bridge!)).sort(), [first, second].sort());

    // The first is revoked in the portal: it leaves the desktop.
    await page.goto('/cards');
    await cardAction(page, first, 'Revoke card');
    const confirm = page.getByRole('dialog', { name: 'Revoke this card?' });
    await confirm.getByRole('radio', { name: 'Lost or stolen' }).check();
    await confirm.getByRole('button', { name: 'Revoke card' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const deadline = Date.now() + 60_000;
    let left = await desktopSerials(bridge!);
    while (left.includes(first) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      left = await desktopSerials(bridge!);
    }
    assert.deepEqual(left, [second], 'the revoked card is still on the desktop');

    // The dashboard counts only the card in use.
    await page.goto('/');
    await page.getByText('You have 1 smart card in use.').waitFor();

    // The freed reader takes the next card.
    const third = await getCard(page, bin);
    assert.deepEqual((await desktopSerials(bridge!)).sort(), [second, third].sort());
    await screenshot(page, '61-new-card-after-revoke');
  });
});
