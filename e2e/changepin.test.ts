// Change PIN from the Cards page's card menu, through the real Desktop App: the
// wizard hands the order to vscard-bridge, the PIN page asks for the current PIN and the
// new one, a wrong current PIN says how many tries are left, and the order ends
// COMPLETED with the portal saying so. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
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
  server = await startServer('changepin');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

// PINs the default option script accepts: digits, 6 to 8, no long runs, not on the block list.
const PIN = '470215';
const NEW_PIN = '913572';

/** submit posts the PIN page's form and fails the test on a refused post. */
async function submit(pinPage: Page, button: string) {
  const [post] = await Promise.all([
    pinPage.waitForResponse((r) => r.request().method() === 'POST'),
    pinPage.getByRole('button', { name: button }).click(),
  ]);
  if (post.status() >= 400) assert.fail(`the PIN page refused the form (HTTP ${post.status()}): ${await post.text()}`);
}

/** openDesktopApp clicks Next in the wizard and returns the Open Desktop App link and the verification code. */
async function openDesktopApp(page: Page) {
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  return { link, code };
}

test('alice changes her PIN from the Cards page through the Desktop App', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  await withPage(browser, srv, 'changepin', async (page) => {
    // A card to change: Get virtual smart card, as fullflow.test.ts does it.
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

    // The card's menu: Change PIN, started on this card.
    const card = page.getByTestId('card');
    const serial = ((await card.getByRole('heading').first().textContent()) ?? '').replace(/\D/g, '');
    assert.ok(serial.length > 0, 'the card shows its serial');
    const change = await cardMenuItem(page, serial, 'Change PIN');
    await change.waitFor();
    assert.ok(await change.isEnabled(), 'Change PIN is available on an active card');
    await screenshot(page, '40-cards-possible-actions');
    await change.click();
    await page.waitForURL(/\/orders\//);
    await page.getByRole('heading', { name: 'Change PIN' }).waitFor();
    assert.equal(((await page.getByTestId('subject-card').textContent()) ?? '').replace(/\D/g, ''), serial);
    await screenshot(page, '41-change-pin-intro');

    const { link, code } = await openDesktopApp(page);
    assert.match(link, /[?&]process=change-pin(&|$)/);
    const pinPage = await page.context().newPage();
    await pinPage.goto(await bridge.open(link));
    await pinPage.getByText(code).waitFor({ timeout: 30_000 });
    await page.getByText('Desktop App connected: change your PIN there').waitFor();
    assert.equal(await pinPage.getByTestId('card-serial').textContent(), serial, 'the Desktop App shows which card');

    // A wrong current PIN: the card says how many tries are left, and nothing changes.
    await pinPage.getByLabel('Current PIN').fill('111999');
    await pinPage.getByLabel('New PIN', { exact: true }).fill(NEW_PIN);
    await pinPage.getByLabel('Type the new PIN again').fill(NEW_PIN);
    await submit(pinPage, 'Change my PIN');
    await pinPage.getByText('The card allows 2 more tries.').waitFor({ timeout: 30_000 });
    await screenshot(pinPage, '42-bridge-wrong-current-pin');

    await pinPage.getByLabel('Current PIN').fill(PIN);
    await pinPage.getByLabel('New PIN', { exact: true }).fill(NEW_PIN);
    await pinPage.getByLabel('Type the new PIN again').fill(NEW_PIN);
    await submit(pinPage, 'Change my PIN');
    await pinPage.getByRole('heading', { name: 'Your PIN is changed' }).waitFor({ timeout: 60_000 });
    await screenshot(pinPage, '43-bridge-pin-changed');

    // The portal follows live: the order is COMPLETED and says so.
    await page.getByTestId('order-done').waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId('order-state').textContent()) ?? '', /Done/);
    assert.match((await page.getByTestId('order-done').textContent()) ?? '', new RegExp(`Card ${serial} now takes the new PIN`));
    await screenshot(page, '44-change-pin-done');

    // Without the portal, `vscard-bridge pin change` changes it through the same agent: a
    // wrong current PIN says the tries left, the old PIN is refused now, the new one works.
    const wrong = await bridge.run(['pin', 'change', serial, '--pin-stdin'], `${PIN}\n470216\n`);
    assert.notEqual(wrong.code, 0, `pin change with the old PIN: ${wrong.out}`);
    assert.match(wrong.out, /The current PIN is wrong\. The card allows 2 more tries\./);
    const back = await bridge.run(['pin', 'change', serial, '--pin-stdin'], `${NEW_PIN}\n${PIN}\n`);
    assert.equal(back.code, 0, `pin change with the new PIN: ${back.out}`);
    assert.match(back.out, new RegExp(`The PIN of card ${serial} is changed\\.`));

    // Back on the Cards page, it says what was done (to screen readers too), and Change PIN
    // is on offer again.
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.waitForURL(/\/cards$/);
    await page.getByRole('status').filter({ hasText: `The PIN of card ${serial} is changed.` }).waitFor();
    await (await cardMenuItem(page, serial, 'Change PIN')).waitFor();
  });
});
