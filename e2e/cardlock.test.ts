// Lock and unlock from the portal: alice locks her card from its actions menu and sees
// it LOCKED with its certificates on hold; an administrator unlocks it from the Users page.
// The card is made through the server's own Desktop App calls (claim, keys from openssl,
// confirm), so this file needs no pcscd; fullflow.test.ts covers the real Desktop App.
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard } from './desktopcalls.ts';
import { cardAction, cardMenuItem, closeCardMenu, itemName, openCardMenu } from './cardmenu.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('cardlock');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});


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
    // The card's actions are one menu, opened from the keyboard as well as by a click.
    await page.getByRole('button', { name: `Actions for card ${serial}`, exact: true }).focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.getByRole('menuitem', { name: itemName('Lock card') }).waitFor();
    await screenshot(page, '59-cards-menu');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    await cardAction(page, serial, 'Lock card');
    await page.getByRole('heading', { name: 'Lock card' }).waitFor();
    const hold = page.getByLabel('Also put the encryption certificate on hold');
    assert.equal(await hold.isChecked(), true, 'holding the encryption certificate is the default');
    await screenshot(page, '60-lock-intro');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').getByText(`Card ${serial} is locked`).waitFor();
    await page.getByRole('link', { name: 'Show my cards' }).click();
    await page.getByTestId('card-locked').waitFor();
    // The Cards page says what was done, to screen readers too (role=status).
    await page.getByRole('status').filter({ hasText: `Card ${serial} is locked.` }).waitFor();
    await page.getByRole('article', { name: `Card ${serial}` }).getByLabel('Card state: Locked').waitFor();
    await screenshot(page, '61-card-locked');
    const got = await gql<CardState>(page, qCard, { s: serial });
    assert.equal(got.card.state, 'LOCKED');
    for (const e of got.card.certificates.edges) {
      assert.equal(e.node.state, 'ON_HOLD');
      assert.equal(e.node.revocationReason, 'certificateHold');
    }
    // The default option script leaves unlocking to an administrator: no Unlock for alice.
    // It is listed, disabled, with the reason in words.
    const unlock = await cardMenuItem(page, serial, 'Unlock card');
    assert.equal(await unlock.isDisabled(), true, 'alice may unlock her own card');
    await page.getByRole('menu').getByText('Ask an administrator to unlock this card.').waitFor();
    await closeCardMenu(page);
  });

  await withPage(b, srv, 'cardlock-admin', async (page) => {
    await signIn(page, srv, 'admin', 'admin-demo');
    await page.goto('/admin/users');
    await page.getByRole('button', { name: `Unlock card ${serial} of alice` }).click();
    // Unlocking someone's card asks why: the server refuses it without a reason.
    const dialog = page.getByRole('dialog', { name: `Unlock card ${serial}` });
    await dialog.getByLabel('Reason').fill('alice found her laptop again');
    await dialog.getByRole('button', { name: 'Unlock card' }).click();
    await page.getByRole('heading', { name: 'Unlock card', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('order-done').getByText(`Card ${serial} is active again`).waitFor();
    await screenshot(page, '62-card-unlocked');
    const got = await gql<CardState>(page, qCard, { s: serial });
    assert.equal(got.card.state, 'ACTIVE');
    for (const e of got.card.certificates.edges) assert.equal(e.node.state, 'VALID');
  });
});

test('carol locks her card in German and the Cards page says so in German', async () => {
  if (!server || !browser) return;
  const srv = server;
  await withPage(
    browser,
    srv,
    'cardlock-carol-de',
    async (page) => {
      await page.goto('/');
      await page.getByRole('link', { name: 'Anmelden' }).last().click();
      await page.waitForURL(/\/dev\/idp\//);
      await page.getByLabel('Username').fill('carol');
      await page.getByLabel('Password').fill('carol-demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Abmelden', exact: true }).waitFor();
      const serial = await activeCard(page, srv);
      await page.goto('/cards');
      const menu = await openCardMenu(page, serial, 'Aktionen für Karte');
      await menu.getByRole('menuitem', { name: itemName('Karte widerrufen') }).waitFor();
      await menu.getByRole('menuitem', { name: itemName('Karte sperren') }).click();
      await page.waitForURL(/\/orders\//);
      await page.getByTestId('subject-card').waitFor();
      await page.getByRole('button', { name: 'Weiter', exact: true }).click();
      await page.getByTestId('order-done').waitFor();
      await page.getByRole('link', { name: 'Meine Karten anzeigen' }).click();
      await page.getByRole('status').filter({ hasText: `Karte ${serial} ist gesperrt.` }).waitFor();
      await screenshot(page, '63-card-locked-de');
      const got = await gql<CardState>(page, qCard, { s: serial });
      assert.equal(got.card.state, 'LOCKED');
    },
    undefined,
    'de-DE',
  );
});
