// Add certificates and Renew card from the Cards page's card menu, through the real
// Desktop App on the same card: once an administrator turns on encryption the card gets a
// 9D certificate without a new card; a renewal then gives it new 9A and 9C certificates,
// the old ones revoked as superseded and 9D kept. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { expect, test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { cardMenuItem, itemName, openCardMenu } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('renew');
  browser = b;
});

test.afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

const PIN = '470215';

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

interface Cert {
  serial: string;
  slot: string;
  state: string;
  revocationReason: string | null;
}

/** cardNow is alice's one card as the server has it: its validity and certificates. */
async function cardNow(page: Page): Promise<{ validUntil: string; certs: Cert[] }> {
  const data = await gql<{ me: { cards: { edges: { node: { validUntil: string; certificates: { edges: { node: Cert }[] } } }[] } } }>(
    page,
    '{ me { cards { edges { node { validUntil certificates { edges { node { serial slot state revocationReason } } } } } } } }',
  );
  const card = data.me.cards.edges[0]?.node;
  assert.ok(card, 'alice has a card');
  return { validUntil: card.validUntil, certs: card.certificates.edges.map((e) => e.node) };
}

/** valid maps each slot to the serial of its VALID certificate. */
function valid(certs: Cert[]): Record<string, string> {
  return Object.fromEntries(certs.filter((c) => c.state === 'VALID').map((c) => [c.slot, c.serial]));
}

/** runOnCard starts the action title on the card from the card's menu and carries it out in the Desktop App with the card's PIN. */
async function runOnCard(page: Page, serial: string, title: string, process: string, shot: string) {
  await page.goto('/cards');
  const button = await cardMenuItem(page, serial, title);
  // The Cards page loads its actions after the cards: on a busy machine that takes a while.
  await button.waitFor({ timeout: 30_000 });
  await expect(button).toBeEnabled({ timeout: 30_000 });
  await button.click();
  await page.waitForURL(/\/orders\//);
  await page.getByRole('heading', { name: title }).first().waitFor();
  assert.equal(((await page.getByTestId('subject-card').textContent()) ?? '').replace(/\D/g, ''), serial);
  await screenshot(page, `${shot}-intro`);
  const { link, code } = await openDesktopApp(page);
  assert.match(link, new RegExp(`[?&]process=${process}(&|$)`));
  assert.ok(bridge, 'the Desktop App runs');
  const pinPage = await page.context().newPage();
  await pinPage.goto(await bridge.open(link));
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  assert.equal(await pinPage.getByTestId('card-serial').textContent(), serial, 'the Desktop App shows which card');
  await pinPage.getByRole('heading', { name: 'Type your PIN' }).waitFor();
  await pinPage.getByLabel('PIN', { exact: true }).fill(PIN);
  await screenshot(pinPage, `${shot}-bridge-pin`);
  await submit(pinPage, 'Continue');
  await pinPage.getByRole('heading', { name: 'Your card has its new certificates' }).waitFor({ timeout: 60_000 });
  await screenshot(pinPage, `${shot}-bridge-done`);
  await pinPage.close();
  await page.getByTestId('order-done').waitFor({ timeout: 60_000 });
  assert.match((await page.getByTestId('order-state').textContent()) ?? '', /Done/);
  await screenshot(page, `${shot}-done`);
}

test('alice adds the encryption certificate, then renews her card, through the Desktop App', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const b = browser;
  await withPage(b, srv, 'renew', async (page) => {
    // A card, as fullflow.test.ts makes it: 9A and 9C under the default script.
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
    assert.ok(serial.length > 0, 'the card shows its serial');
    const made = await cardNow(page);
    assert.deepEqual(Object.keys(valid(made.certs)).sort(), ['9A', '9C']);

    // The card has all the script asks for: Add certificates is shown, not available, and why.
    const actions = await openCardMenu(page, serial);
    const add = actions.getByRole('menuitem', { name: itemName('Add certificates') });
    await add.waitFor({ timeout: 30_000 });
    await expect(add).toBeDisabled();
    await actions.getByText('The card already has every certificate your organisation gives.').waitFor();
    await screenshot(page, '50-cards-nothing-to-add');

    // An administrator turns on encryption.
    await withPage(b, srv, 'renew-admin', async (admin) => {
      await signIn(admin, srv, 'admin', 'admin-demo');
      const { optionScript } = await gql<{ optionScript: { current: { source: string } } }>(admin, '{ optionScript { current { source } } }');
      const source = optionScript.current.source.replace(/ENCRYPTION: None/, 'ENCRYPTION: ECCP256');
      assert.notEqual(source, optionScript.current.source, 'the default script has encryption off');
      await gql(admin, 'mutation($s: String!) { updateOptionScript(source: $s, comment: "encryption on") { current { version } } }', { s: source });
    });

    await runOnCard(page, serial, 'Add certificates', 'issue-certificates-to-virtual-smart-card', '51-add-certificates');
    const added = valid((await cardNow(page)).certs);
    assert.deepEqual(Object.keys(added).sort(), ['9A', '9C', '9D'], 'the card has an encryption certificate');
    assert.equal(added['9A'], valid(made.certs)['9A'], 'adding 9D leaves 9A as it was');

    // Renew: new 9A and 9C on the same card; the old ones superseded; 9D kept.
    await runOnCard(page, serial, 'Renew card', 'renew-virtual-smart-card', '52-renew');
    assert.match((await page.getByTestId('order-done').textContent()) ?? '', new RegExp(`Card ${serial} has new certificates`));
    const renewed = await cardNow(page);
    const now = valid(renewed.certs);
    assert.deepEqual(Object.keys(now).sort(), ['9A', '9C', '9D']);
    assert.notEqual(now['9A'], added['9A'], 'a new authentication certificate');
    assert.notEqual(now['9C'], added['9C'], 'a new signature certificate');
    assert.equal(now['9D'], added['9D'], 'the encryption certificate is kept');
    for (const slot of ['9A', '9C']) {
      const old = renewed.certs.find((c) => c.serial === added[slot]);
      assert.equal(old?.state, 'REVOKED', `the old ${slot} certificate is revoked`);
      assert.equal(old?.revocationReason, 'superseded', `the old ${slot} certificate is superseded`);
    }
    assert.ok(new Date(renewed.validUntil) > new Date(made.validUntil), 'the card is valid for longer');

    // The Cards page lists the certificates in use first in each slot, the superseded after.
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.waitForURL(/\/cards$/);
    const rows = page.getByTestId('certificate-row');
    await expect(rows).toHaveCount(5, { timeout: 30_000 });
    for (const [i, serialOf] of [now['9A'], added['9A'], now['9C'], added['9C'], now['9D']].entries()) {
      await expect(rows.nth(i)).toContainText(serialOf ?? 'missing');
    }
    await screenshot(page, '53-cards-renewed');

    // The Desktop App's own record of the card follows.
    const cards = (await bridge?.cards()) as { serial: number; certificates: { slot: string; serial: string }[] }[];
    const mine = cards.find((c) => String(c.serial) === serial);
    assert.deepEqual(
      Object.fromEntries((mine?.certificates ?? []).map((c) => [c.slot, c.serial])),
      now,
      'vscard-bridge cards lists the card with its new certificates',
    );
  });
});
