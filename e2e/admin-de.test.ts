// The administration in German: the administrator's browser speaks German. The Users page,
// the confirmation that deletes a card's record (which asks why), the Orders page and the
// option script show no sentence of the English catalogue, and each passes the axe checks
// (screenshot() runs them).
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { DESKTOP, gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard } from './desktopcalls.ts';
import { assertNoEnglish, englishSentences, signInAs, type ConsoleWords } from './operatorsteps.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('admin-de');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

// signInAs goes by the sign-in and sign-out words only.
const de = { signIn: 'Anmelden', signOut: 'Abmelden' } as ConsoleWords;

test('the administrator, in German, reads the Users, Orders and option script pages and deletes a card record with a reason', async () => {
  if (!server || !browser) return;
  const srv = server;
  const english = englishSentences();
  let serial = '';
  await withPage(browser, srv, 'admin-de-carol', async (page) => {
    await signIn(page, srv, 'carol', 'carol-demo');
    serial = await activeCard(page, srv);
  });

  await withPage(
    browser,
    srv,
    'admin-de-admin',
    async (page) => {
      await signInAs(page, srv, de, 'admin', 'admin-demo');
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');

      await page.getByRole('link', { name: 'Benutzer', exact: true }).click();
      await page.getByRole('heading', { name: 'Benutzer', level: 1 }).waitFor();
      const carol = page.getByTestId('user-carol');
      await carol.getByText(serial).waitFor();
      await carol.getByText('Einsatzbereit').waitFor(); // the card's state in words
      await assertNoEnglish(page, english, 'Users page');
      await screenshot(page, 'admin-de-users');

      await page.getByRole('button', { name: `Den Datensatz der Karte ${serial} von carol löschen` }).click();
      const dialog = page.getByRole('dialog', { name: `Den Datensatz der Karte ${serial} löschen?` });
      await dialog.getByText(/Die Karte von carol funktioniert nirgends mehr/).waitFor();
      await assertNoEnglish(page, english, 'delete dialog');
      const confirm = dialog.getByRole('button', { name: 'Datensatz löschen' });
      assert.ok(await confirm.isDisabled(), 'deletes without a reason');
      await dialog.getByLabel('Begründung').fill('Gerät verschrottet');
      await confirm.click();
      await page.getByText(`Die Karte ${serial} von carol ist gelöscht`).waitFor();
      assert.equal(await carol.getByText(serial).count(), 0);
      await assertNoEnglish(page, english, 'Users page after the delete');

      await page.getByRole('link', { name: 'Aufträge', exact: true }).click();
      await page.getByRole('heading', { name: 'Aufträge', level: 1 }).waitFor();
      // carol's order, its process and state in words.
      const orders = page.getByRole('table', { name: 'Aufträge' });
      await orders.getByText('Virtuelle Smartcard anfordern').first().waitFor();
      await orders.getByText('Fertig').first().waitFor();
      await assertNoEnglish(page, english, 'Orders page');
      await screenshot(page, 'admin-de-orders');

      await page.getByRole('link', { name: 'Optionsskript', exact: true }).click();
      await page.getByRole('heading', { name: 'Optionsskript', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Prüfen', exact: true }).click();
      await page.getByTestId('evaluated-options').getByText('Optionen für den Beispielbenutzer').waitFor();
      // The script's own text (and the properties it yields, "Virtual smart card <e-mail>") is
      // what an administrator wrote, not the page's words.
      const { optionScript } = await gql<{ optionScript: { current: { source: string } } }>(page, '{ optionScript { current { source } } }');
      const source = optionScript.current.source;
      await assertNoEnglish(
        page,
        english.filter((s) => !source.includes(s)),
        'option script page',
      );
      await screenshot(page, 'admin-de-script');
    },
    DESKTOP,
    'de-DE',
  );
});
