// The whole use case with the Desktop App: the portal hands the order to vscard-bridge,
// the PIN goes into the bridge's PIN page, the wizard follows live, Next finishes, and the
// card is ACTIVE with VALID certificates under Cards. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { createCard, setOption, startOrder } from './getcard.ts';
import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { itemName } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

// Without a bridge (or what its private pcscd needs) the file's tests are skipped, with why.
test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('fullflow');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

// A PIN the default option script accepts: digits, 6 to 8, no long runs, not on the block list.
const PIN = '470215';

interface CardsData {
  me: { cards: { edges: { node: { state: string; certificates: { edges: { node: { state: string } }[] } } }[] } };
}

test('alice gets a virtual smart card through the Desktop App', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;
  await withPage(b, srv, 'fullflow', async (page) => {
    const { dialog, link, code } = await startOrder(page, srv, 'alice', 'alice-demo');

    // Record every state the wizard shows, to prove it advanced by itself (no reload).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __states: string[] }).__states = seen;
      const el = document.querySelector('[data-testid="order-state"]');
      if (!el) return;
      seen.push(el.textContent ?? '');
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });

    bridge = await openLinkInBridge(bridgeBin.bin, link);
    const pinPage = await page.context().newPage();
    await pinPage.goto(bridge.pinPage);
    await pinPage.getByText(code).waitFor({ timeout: 30_000 });
    await screenshot(pinPage, '20-bridge-pin-page');
    // The portal saw the bridge claim the order: the dialog is gone, the progress shows it.
    await page.getByText('Desktop App connected: choose your PIN there').waitFor();
    assert.equal(await dialog.count(), 0, 'the hand-off dialog closed by itself');
    await screenshot(page, '19-wizard-desktop-app-connected');
    await createCard(pinPage, PIN);

    // The wizard follows the bridge live: the dialog closes and the card appears.
    await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
    const states = await page.evaluate(() => (window as unknown as { __states: string[] }).__states);
    assert.ok(states.some((s) => /Waiting for the Desktop App/i.test(s)), `started waiting: ${states.join(' | ')}`);
    assert.ok(states.some((s) => /Card ready/i.test(s)), `reached card ready live: ${states.join(' | ')}`);
    const card = page.getByTestId('card');
    await card.waitFor();
    assert.ok((await card.getByTestId('certificate-row').count()) >= 1);
    await screenshot(page, '21-wizard-card-ready');
    await screenshot(pinPage, '22-bridge-card-ready');
    await pinPage.close();

    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').waitFor();
    await screenshot(page, '23-wizard-done');

    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.waitForURL(/\/cards$/);
    const listed = page.getByTestId('card');
    await listed.first().waitFor();
    assert.equal(await listed.count(), 1);
    assert.equal(await listed.getByLabel(/Card state/).textContent(), 'Ready to use');
    const rows = listed.getByTestId('certificate-row');
    const certStates = await rows.locator('td:nth-child(4) .mantine-Badge-label').allTextContents();
    assert.ok(certStates.length >= 1 && certStates.every((s) => s === 'Valid'), `certificate states: ${certStates.join(', ')}`);
    await screenshot(page, '24-cards');

    // PEM download of the first certificate.
    const [download] = await Promise.all([page.waitForEvent('download'), rows.first().getByRole('button', { name: /as PEM$/ }).click()]);
    assert.match(download.suggestedFilename(), /^vscard-.+-9A-authentication\.pem$/);

    const data = await gql<CardsData>(page, '{ me { cards { edges { node { state certificates { edges { node { state } } } } } } } }');
    const cards = data.me.cards.edges.map((e) => e.node);
    assert.equal(cards.length, 1);
    assert.equal(cards[0]?.state, 'ACTIVE');
    assert.ok(cards[0]?.certificates.edges.every((e) => e.node.state === 'VALID'));

    // A lost laptop: alice revokes the card from the Cards page.
    await page.getByRole('button', { name: /^Actions for card \d+$/ }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: itemName('Revoke card') }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke this card?' });
    // Nothing is revoked until the person says why.
    assert.ok(await confirm.getByRole('button', { name: 'Revoke card' }).isDisabled(), 'revoke waits for a reason');
    await confirm.getByRole('radio', { name: 'Lost or stolen' }).check();
    await confirm.getByLabel('Anything to add (optional)').fill('Left the laptop on the train.');
    await screenshot(page, '25-revoke-reason');
    await confirm.getByRole('button', { name: 'Revoke card' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await listed.getByLabel(/Card state/).filter({ hasText: 'Not in use' }).waitFor();
    // The page confirms what was done, in words (role=status, read out by screen readers).
    await page.getByRole('status').filter({ hasText: /^Card \d+ is revoked: / }).waitFor();
    // The reason in words, never an enum name.
    const summary = listed.getByTestId('card-revoked');
    assert.match((await summary.textContent()) ?? '', /^Revoked on .+ — lost or stolen$/);
    assert.equal(await listed.getByText(/keyCompromise|LOST_OR_STOLEN/).count(), 0, 'no enum name on the page');
    const revoked = await gql<{
      me: { cards: { edges: { node: { state: string; certificates: { edges: { node: { state: string; revocationReason: string } }[] } } }[] } };
    }>(page, '{ me { cards { edges { node { state certificates { edges { node { state revocationReason } } } } } } } }');
    assert.equal(revoked.me.cards.edges[0]?.node.state, 'INACTIVE');
    assert.ok(
      revoked.me.cards.edges[0]?.node.certificates.edges.every((e) => e.node.state === 'REVOKED' && e.node.revocationReason === 'keyCompromise'),
      'every certificate is revoked as keyCompromise',
    );
    const menus = page.getByRole('button', { name: /^Actions for card \d+$/ });
    if ((await menus.count()) > 0) {
      await menus.first().click();
      assert.equal(await page.getByRole('menuitem', { name: 'Revoke card' }).count(), 0, 'an inactive card offers no revoke');
      await page.keyboard.press('Escape');
    }
    await screenshot(page, '27-cards-revoked');
  });
});

test('after the admin raises the PIN minimum, the Desktop App refuses a short PIN', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;
  await withPage(b, srv, 'pin-policy-admin', async (admin) => {
    await signIn(admin, srv, 'admin', 'admin-demo');
    await setOption(admin, /^PIN_MIN_LENGTH = \d+/m, 'PIN_MIN_LENGTH = 8', 'longer PINs');
  });

  let second: Bridge | undefined;
  try {
    await withPage(b, srv, 'pin-policy-carol', async (page) => {
      const { link, code } = await startOrder(page, srv, 'carol', 'carol-demo');

      second = await openLinkInBridge(bridgeBin.bin, link);
      const pinPage = await page.context().newPage();
      await pinPage.goto(second.pinPage);
      await pinPage.getByText(code).waitFor({ timeout: 30_000 });
      // The page states the new rule, and a PIN the default policy accepted (6 digits) is
      // refused: the browser will not submit it.
      await pinPage.getByText(/^8 digits$/).first().waitFor();
      await pinPage.getByLabel('New PIN').fill(PIN);
      await pinPage.getByLabel('Type it again').fill(PIN);
      let posted = false;
      pinPage.on('request', (r) => {
        if (r.method() === 'POST') posted = true;
      });
      await pinPage.getByRole('button', { name: 'Create my card' }).click();
      const tooShort = await pinPage.getByLabel('New PIN').evaluate((el) => (el as HTMLInputElement).validity.tooShort);
      assert.ok(tooShort, 'the PIN field refuses a 6-character PIN');
      assert.equal(posted, false, 'a refused PIN is not sent');
      await screenshot(pinPage, '25-bridge-pin-refused');

      // Cancel on the PIN page ends the order; the portal shows it live, and no card exists.
      await pinPage.getByRole('button', { name: 'Cancel' }).click();
      await page.getByTestId('order-ended').waitFor({ timeout: 60_000 });
      const data = await gql<{ me: { cards: { totalCount: number } } }>(page, '{ me { cards { totalCount } } }');
      assert.equal(data.me.cards.totalCount, 0);
    });
  } finally {
    await second?.stop();
  }
});

test('Cancel on the card-ready step deletes the card on the desktop and revokes its certificates', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;
  let third: Bridge | undefined;
  try {
    await withPage(b, srv, 'cancel-card-ready', async (page) => {
      const { link } = await startOrder(page, srv, 'carol', 'carol-demo');
      third = await openLinkInBridge(bridgeBin.bin, link);
      const pinPage = await page.context().newPage();
      await pinPage.goto(third.pinPage);
      const longPIN = '47021583'; // the previous test raised the minimum to 8
      await pinPage.getByLabel('New PIN').fill(longPIN);
      await pinPage.getByLabel('Type it again').fill(longPIN);
      await pinPage.getByRole('button', { name: 'Create my card' }).click();
      await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
      assert.equal((await third.cards()).length, 1, 'the bridge holds the new card');

      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.getByRole('dialog', { name: 'Cancel this order?' }).getByRole('button', { name: 'Cancel order' }).click();
      await page.getByTestId('order-ended').waitFor();
      // The portal says what the server took back: this card, and its certificates.
      assert.match(
        (await page.getByTestId('order-ended').textContent()) ?? '',
        /The card the Desktop App had started was deleted, and the (\d+ certificates issued for it were|certificate issued for it was) revoked\./,
      );
      await screenshot(page, '26-wizard-cancelled-at-card-ready');

      const data = await gql<{ me: { cards: { totalCount: number } }; certificates: { edges: { node: { state: string } }[] } }>(
        page,
        '{ me { cards { totalCount } } certificates { edges { node { state } } } }',
      );
      assert.equal(data.me.cards.totalCount, 0, 'no card is left in the portal');
      assert.ok(data.certificates.edges.length >= 1 && data.certificates.edges.every((e) => e.node.state === 'REVOKED'), 'every certificate is revoked');
      // The bridge learns of the cancel from the subscription and deletes its card.
      const deadline = Date.now() + 30_000;
      while ((await third.cards()).length > 0) {
        assert.ok(Date.now() < deadline, 'the bridge still holds the card 30 s after the cancel');
        await new Promise((ok) => setTimeout(ok, 250));
      }
    });
  } finally {
    await third?.stop();
  }
});
