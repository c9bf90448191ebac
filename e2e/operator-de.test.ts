// The operator console in German: olga's browser speaks German. She finds carol, locks her
// card giving a reason, reads it in the audit log in German words, and exports it; the same
// steps as operator-day.test.ts (operatorsteps.ts), in German words. No sentence of the
// English catalogue shows on the console's pages, and each passes the axe checks
// (screenshot() runs them).
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { DESKTOP, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard } from './desktopcalls.ts';
import { assertNoEnglish, englishSentences, exportTrail, findPerson, lockCard, signInAs, type ConsoleWords } from './operatorsteps.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('operator-de');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

/** de are the console's German words the steps go by. */
const de: ConsoleWords = {
  signIn: 'Anmelden',
  signOut: 'Abmelden',
  people: 'Personen',
  search: 'Suche',
  actionsFor: (serial) => `Aktionen für Karte ${serial}`,
  reason: 'Begründung',
  lock: (owner, serial) => ({
    label: 'Sperren…',
    consequence: new RegExp(`Die Karte ${serial} von ${owner} wird gesperrt und ihre Zertifikate werden ausgesetzt`),
    confirm: 'Karte sperren',
  }),
  auditTrail: 'Audit-Spur',
  locked: (actor, owner, serial, reason) => `${actor} hat die Karte ${serial} von ${owner} gesperrt: ${reason}`,
  auditLog: 'Audit-Protokoll',
  exportCSV: 'Als CSV exportieren',
};

test('olga, in German, finds carol, locks her card with a reason, reads the audit log and exports it', async () => {
  if (!server || !browser) return;
  const srv = server;
  const english = englishSentences();
  assert.ok(english.length > 100, `only ${english.length} English sentences found`);
  let serial = '';
  await withPage(browser, srv, 'operator-de-carol', async (page) => {
    await signIn(page, srv, 'carol', 'carol-demo');
    serial = await activeCard(page, srv);
  });

  await withPage(
    browser,
    srv,
    'operator-de-olga',
    async (page) => {
      await signInAs(page, srv, de, 'olga', 'olga-demo');
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      await findPerson(page, de, 'car', 'carol', 'Carol Active');
      await assertNoEnglish(page, english, 'person page');

      const reason = 'Laptop im Zug liegen lassen';
      const sentence = await lockCard(page, de, { actor: 'Olga Operator', owner: 'Carol Active' }, serial, reason, {
        dialog: 'operator-de-lock-dialog',
        person: 'operator-de-person',
      });
      await assertNoEnglish(page, english, 'person page after the lock');

      // The card page speaks German too.
      await page.getByRole('link', { name: serial }).first().click();
      await page.getByRole('heading', { name: `Karte ${serial}`, level: 1 }).waitFor();
      await page.getByText(sentence).waitFor();
      await assertNoEnglish(page, english, 'card page');
      await screenshot(page, 'operator-de-card');

      // The audit log, filtered by carol: what was done about her, in German sentences.
      await page.getByRole('link', { name: de.auditLog }).click();
      await page.getByRole('heading', { name: 'Audit-Protokoll', level: 1 }).waitFor();
      await page.getByLabel('Person', { exact: true }).fill('carol');
      await page.getByTestId('audit-sentence').filter({ hasText: sentence }).first().waitFor();
      // Only carol's events: what she did, and what was done about her (olga's lock).
      await page.waitForFunction(() =>
        [...document.querySelectorAll('[data-testid="audit-sentence"]')].every((r) => (r.textContent ?? '').includes('Carol Active')),
      );
      const all = await page.getByTestId('audit-sentence').allTextContents();
      assert.ok(all.every((s) => !/ signed in| locked |usr_|crd_|\b[a-z]+\.[a-z_]+\b/.test(s)), `German, no codes: ${all.join(' | ')}`);
      await assertNoEnglish(page, english, 'audit log');
      await screenshot(page, 'operator-de-audit');

      // The export of carol's trail, from her page: the lock and its reason among them.
      await page.goBack();
      await page.goBack();
      await page.getByRole('heading', { name: 'Carol Active', level: 1 }).waitFor();
      const csv = await exportTrail(page, de);
      assert.ok(csv.includes(reason), 'the export lacks the reason of the lock');
    },
    DESKTOP,
    'de-DE',
  );
});
