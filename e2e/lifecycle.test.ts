// The end of a card's life through the portal and the real Desktop App (vscard-bridge,
// pcscd, vpcd): `vscard-bridge delete` deletes a card on the server (the card signing the
// server's challenge with its PIN) and on the desktop; Replace card (the computer broke)
// makes a new card through the same wizard and Desktop App as Get virtual smart card and
// supersedes the old one only once the new one is active; Delete card on the Cards page
// ends a card and revokes its certificates. Needs VSCARD_BRIDGE_BIN (see bridge.ts).
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { cardAction } from './cardmenu.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
let bridge: Bridge | undefined;

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('lifecycle');
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

/**
 * makeCard finishes a wizard that makes a new card (get-virtual-smart-card, replace) from
 * its introduction: the Desktop App gets the link and the PIN, the person checks the new
 * card and presses Next. It returns the new card's serial.
 */
async function makeCard(page: Page, bin: string): Promise<string> {
  const { link, code } = await openDesktopApp(page);
  let pinPageURL: string;
  if (bridge) pinPageURL = await bridge.open(link);
  else {
    bridge = await openLinkInBridge(bin, link);
    pinPageURL = bridge.pinPage;
  }
  const pinPage = await page.context().newPage();
  await pinPage.goto(pinPageURL);
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  await pinPage.getByLabel('New PIN', { exact: true }).fill(PIN);
  await pinPage.getByLabel('Type it again').fill(PIN);
  await submit(pinPage, 'Create my card');
  await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
  await pinPage.close();
  const serial = ((await page.getByTestId('card').getByRole('heading').first().textContent()) ?? '').replace(/\D/g, '');
  assert.ok(serial.length > 0, 'the new card shows its serial');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('order-done').waitFor({ timeout: 60_000 });
  return serial;
}

/** getCard runs Get virtual smart card from the start page and returns the serial. */
async function getCard(page: Page, bin: string): Promise<string> {
  await page.goto('/');
  await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
  await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
  return makeCard(page, bin);
}

interface CardState {
  card: {
    state: string;
    replacedBy: { serial: string } | null;
    certificates: { edges: { node: { serial: string; state: string; revocationReason: string | null } }[] };
  };
}
const qCard =
  'query($s: String!) { card(serial: $s) { state replacedBy { serial } certificates { edges { node { serial state revocationReason } } } } }';

/** wantCard checks a card's state and that every certificate of it is in certState with reason. */
async function wantCard(page: Page, serial: string, state: string, certState: string, reason: string | null): Promise<CardState['card']> {
  const { card } = await gql<CardState>(page, qCard, { s: serial });
  assert.equal(card.state, state, `card ${serial}`);
  assert.ok(card.certificates.edges.length > 0, `card ${serial} has certificates`);
  for (const { node } of card.certificates.edges) {
    assert.equal(node.state, certState, `certificate ${node.serial} of card ${serial}`);
    assert.equal(node.revocationReason, reason, `revocation reason of certificate ${node.serial}`);
  }
  return card;
}

/** desktopSerials are the serials of the cards the Desktop App holds. */
async function desktopSerials(b: Bridge): Promise<string[]> {
  return (await b.cards()).map((c) => String((c as { serial: number }).serial));
}

test('a card deleted with vscard-bridge, one replaced in the portal, and the new one deleted on the Cards page', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  const bin = bridgeBin.bin;
  let old = '';
  await withPage(browser, srv, 'lifecycle', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');

    // vscard-bridge delete: the card confirms with its PIN, the server ends it, and it
    // leaves the desktop at once (its reader is free for the next card).
    const first = await getCard(page, bin);
    assert.ok(bridge);
    const del = await bridge.run(['delete', first, '--pin-stdin'], `111999\n${PIN}\n`);
    assert.equal(del.code, 0, `vscard-bridge delete: ${del.out}`);
    assert.match(del.out, /The PIN is wrong|allows 2 more tries/, 'a wrong PIN is asked again with the tries left');
    assert.match(del.out, new RegExp(`card ${first} is deleted and its certificates are revoked`));
    await wantCard(page, first, 'INACTIVE', 'REVOKED', 'cessationOfOperation');
    assert.ok(!(await desktopSerials(bridge)).includes(first), 'the deleted card left the desktop');

    // Replace card, the computer broke: the old card works until the new one is active.
    old = await getCard(page, bin);
    await page.goto('/cards');
    await cardAction(page, old, 'Replace card');
    await page.waitForURL(/\/orders\//);
    await page.getByRole('heading', { name: 'Replace your card' }).waitFor();
    assert.equal(((await page.getByTestId('subject-card').textContent()) ?? '').replace(/\D/g, ''), old);
    const lost = page.getByLabel('The old card was lost or stolen');
    assert.equal(await lost.isChecked(), false, 'a broken computer is the default');
    await screenshot(page, '70-replace-intro');
    // The same hand-off as Get virtual smart card, under the process's own name.
    const handoff = page.waitForResponse((r) => r.url().endsWith('/query') && r.request().postData()?.includes('nextStep') === true);
    const fresh = await makeCard(page, bin);
    assert.match(JSON.stringify(await (await handoff).json()), /process=replace-virtual-smart-card/);
    assert.notEqual(fresh, old);
    assert.match((await page.getByTestId('order-done').textContent()) ?? '', /The old card no longer works/);
    await screenshot(page, '71-replace-done');
    const oldCard = await wantCard(page, old, 'REVOKED', 'REVOKED', 'superseded');
    assert.equal(oldCard.replacedBy?.serial, fresh, 'the old card names its successor');
    await wantCard(page, fresh, 'ACTIVE', 'VALID', null);

    // Delete card from the Cards page: a server step, no Desktop App.
    await page.goto('/cards');
    await cardAction(page, fresh, 'Delete card');
    await page.getByRole('heading', { name: 'Delete card' }).waitFor();
    await screenshot(page, '72-delete-intro');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').getByText(`Card ${fresh} no longer works`).waitFor();
    await wantCard(page, fresh, 'INACTIVE', 'REVOKED', 'cessationOfOperation');

    // Back on the Cards page, it says what was done; it folds the ended cards; the start
    // page counts none in use.
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.getByRole('status').filter({ hasText: `Card ${fresh} is deleted` }).waitFor();
    await page.getByTestId('no-cards-in-use').waitFor();
    const fold = page.getByRole('button', { name: 'Show 3 cards no longer in use' });
    await fold.click();
    await page.getByRole('article', { name: `Card ${old}` }).getByTestId('card-replaced-by').getByText(fresh).waitFor();
    await screenshot(page, '73-ended-cards');
    await page.goto('/');
    await page.getByText('You have no smart cards in use.').waitFor();
  });

  // An administrator removes the replaced card's record: after a confirmation it is gone,
  // for the administrator's API too.
  await withPage(browser, srv, 'lifecycle-admin', async (page) => {
    await signIn(page, srv, 'admin', 'admin-demo');
    await page.goto('/admin/users');
    await page.getByRole('button', { name: `Delete the record of card ${old} of alice` }).click();
    const dialog = page.getByRole('dialog', { name: `Delete the record of card ${old}?` });
    await dialog.waitFor();
    await screenshot(page, '74-admin-delete-record');
    // Removing someone's card asks why, like every other action on their things.
    assert.ok(await dialog.getByRole('button', { name: 'Delete record' }).isDisabled(), 'deletes without a reason');
    await dialog.getByLabel('Reason').fill('replaced, the old laptop is scrapped');
    await dialog.getByRole('button', { name: 'Delete record' }).click();
    await page.getByText(`Card ${old} of alice is deleted`).waitFor();
    assert.equal(await page.getByRole('button', { name: `Delete the record of card ${old} of alice` }).count(), 0);
    const { card } = await gql<{ card: unknown }>(page, 'query($s: String!) { card(serial: $s) { id } }', { s: old }).catch(
      (err: Error) => (/no card|not found/i.test(err.message) ? { card: null } : Promise.reject(err)),
    );
    assert.equal(card, null, 'the record is gone');
  });
});
