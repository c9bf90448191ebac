// A card process other than Get virtual smart card in German (issue 19 §2, §4): Change PIN
// and Lock card from the Cards page of a German browser. At each step of the wizard the page
// shows its German words, no sentence of the English catalogue, and passes axe (screenshot
// runs it). The Desktop App's side is the server's own Desktop App calls (claim, then its
// step done), so this file needs no pcscd; changepin.test.ts covers the real Desktop App.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';

import { cardMenuItem } from './cardmenu.ts';
import { activeCard, bridgeCall } from './desktopcalls.ts';
import { DESKTOP, repoRoot, screenshot, startServer, withPage, type Server } from './harness.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('cardwords-de');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

const locales = join(repoRoot, 'frontend', 'src', 'i18n', 'locales');

/** leaves maps a catalogue's dotted keys to their words. */
function leaves(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (typeof v === 'string') out[prefix] = v;
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/**
 * englishSentences are the English catalogue's sentences that German says otherwise: the
 * parts between placeholders with four words or more (shorter ones, such as "Desktop App",
 * could be a name in either language).
 */
const englishSentences: string[] = (() => {
  const out = new Set<string>();
  for (const file of readdirSync(join(locales, 'en'))) {
    const en = leaves(JSON.parse(readFileSync(join(locales, 'en', file), 'utf8')));
    const de = leaves(JSON.parse(readFileSync(join(locales, 'de', file), 'utf8')));
    for (const [key, words] of Object.entries(en)) {
      if (de[key] === words) continue;
      for (const part of words.split(/\{\{[^}]*\}\}|<[^>]*>/)) {
        const s = part.trim().replace(/^[,;:.]\s*/, '');
        if (s.split(/\s+/).length >= 4) out.add(s);
      }
    }
  }
  return [...out];
})();

/** germanOnly fails when the page shows a sentence of the English catalogue. */
async function germanOnly(page: Page, where: string) {
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  const english = englishSentences.filter((s) => text.includes(s));
  assert.deepEqual(english, [], `English at ${where}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
}

/** shows waits for each of words on the page (or in the part given). */
async function shows(where: Page | ReturnType<Page['locator']>, ...words: string[]) {
  for (const w of words) await where.getByText(w, { exact: false }).first().waitFor();
}

test('a German browser changes the PIN and locks the card in German', async () => {
  assert.ok(englishSentences.length > 200, `${englishSentences.length} English sentences to look for`);
  if (!server || !browser) return;
  const srv = server;
  await withPage(
    browser,
    srv,
    'cardwords-de',
    async (page) => {
      await page.goto('/');
      await page.getByRole('link', { name: 'Anmelden' }).last().click();
      await page.waitForURL(/\/dev\/idp\//);
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('alice-demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Abmelden', exact: true }).waitFor();
      const serial = await activeCard(page, srv);

      // Change PIN, from the card's actions.
      await page.goto('/cards');
      const change = await cardMenuItem(page, serial, 'PIN ändern', 'Aktionen für Karte');
      await expect(change).toBeEnabled({ timeout: 30_000 });
      await germanOnly(page, 'the card\'s menu');
      await screenshot(page, 'de-card-menu');
      await change.click();
      await page.waitForURL(/\/orders\/ord_/);
      const orderId = new URL(page.url()).pathname.split('/').pop() ?? '';

      // 1. The introduction: which card, what happens, the steps above.
      await page.getByRole('heading', { name: 'PIN ändern', exact: true }).waitFor();
      await shows(page.getByLabel('Schritte', { exact: true }), 'Einführung', 'Desktop-App', 'Fertig');
      await shows(page, 'So geht es weiter:', 'Die Desktop-App zeigt, um welche Karte es geht');
      assert.match((await page.getByTestId('subject-card').textContent()) ?? '', new RegExp(`^Karte\\s*${serial}$`));
      await germanOnly(page, 'the introduction');
      await screenshot(page, 'de-change-pin-1-intro');

      // 2. Next hands the order to the Desktop App: the dialog in the process's words.
      await page.getByRole('button', { name: 'Weiter', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Die vscard Desktop-App öffnen' });
      await shows(dialog, 'Die Desktop-App erledigt das mit der Karte auf diesem Computer.');
      const link = (await dialog.getByRole('link', { name: 'Desktop-App öffnen' }).getAttribute('href')) ?? '';
      await germanOnly(page, 'the hand-off dialog');
      await screenshot(page, 'de-change-pin-2-handoff');

      // 3. Waiting for the Desktop App.
      await dialog.getByRole('button', { name: 'Dialog ausblenden' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('heading', { name: 'PIN ändern in der Desktop-App' }).waitFor();
      const progress = page.getByLabel('Fortschritt', { exact: true });
      await shows(progress, 'Warten auf die Desktop-App', 'Öffnen Sie die Desktop-App über den Link');
      await page.getByRole('button', { name: 'Link zur Desktop-App anzeigen' }).waitFor();
      await shows(page, 'Warten auf die Desktop-App. Öffnen Sie sie über den Link');
      await germanOnly(page, 'waiting for the Desktop App');
      await screenshot(page, 'de-change-pin-3-waiting');

      // 4. The Desktop App has the order: the step says so, with a German date and time.
      const token = new URL(link).searchParams.get('token') ?? '';
      const claim = await bridgeCall<{ claimOrder: { sessionToken: string } }>(
        srv,
        'mutation($id: ID!, $t: String!) { claimOrder(orderId: $id, token: $t, device: {reader: "Virtual PCD 00 00"}) { sessionToken } }',
        { id: orderId, t: token },
      );
      const connected = page.getByTestId('progress-DESKTOP_APP_CONNECTED');
      await shows(connected, 'Desktop-App verbunden: Ändern Sie dort Ihre PIN');
      assert.match(await connected.innerText(), /\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}/, 'the time in German');
      await shows(page, 'Die Desktop-App hat Ihre Karte.');
      await germanOnly(page, 'the Desktop App connected');
      await screenshot(page, 'de-change-pin-4-connected');

      // 5. The Desktop App changed the PIN: done, in German.
      await bridgeCall(srv, 'mutation($id: ID!) { bridgeNext(orderId: $id, note: "PIN changed") { state } }', { id: orderId }, claim.claimOrder.sessionToken);
      const done = page.getByTestId('order-done');
      await shows(done, 'Ihre PIN ist geändert', `Karte ${serial} nimmt jetzt die neue PIN an.`);
      await germanOnly(page, 'the PIN changed');
      await screenshot(page, 'de-change-pin-5-done');

      // Lock card: a process the server carries out, with a question first.
      await page.goto('/cards');
      const lock = await cardMenuItem(page, serial, 'Karte sperren', 'Aktionen für Karte');
      await expect(lock).toBeEnabled({ timeout: 30_000 });
      await lock.click();
      await page.getByRole('heading', { name: 'Karte sperren', exact: true }).waitFor();
      assert.equal(await page.getByLabel('Auch das Verschlüsselungszertifikat aussetzen').isChecked(), true);
      await shows(page, 'Die Karte funktioniert sofort nicht mehr');
      await germanOnly(page, 'the lock introduction');
      await screenshot(page, 'de-lock-1-intro');
      await page.getByRole('button', { name: 'Weiter', exact: true }).click();
      await shows(page.getByTestId('order-done'), 'Ihre Karte ist gesperrt', `Karte ${serial} ist gesperrt und ihre Zertifikate sind ausgesetzt.`);
      await germanOnly(page, 'the card locked');
      await screenshot(page, 'de-lock-2-done');
    },
    DESKTOP,
    'de-DE',
  );
});
