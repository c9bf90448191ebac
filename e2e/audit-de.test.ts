// The audit log in German: an administrator whose browser speaks German locks a person with a
// reason and reads it in the log as a German sentence, with German filters and headings;
// the page passes the axe checks (harness.ts) in German too.
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { DESKTOP, gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('audit-de');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

test('an administrator reads the audit log in German', async () => {
  // A person exists once they have signed in.
  await withPage(browser, server, 'alice-sign-in', (alice) => signIn(alice, server, 'alice', 'alice-demo'));
  await withPage(
    browser,
    server,
    'audit-de',
    async (page) => {
      await page.goto('/');
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      await page.getByRole('link', { name: 'Anmelden' }).last().click();
      await page.waitForURL(/\/dev\/idp\//);
      // devidp's own login page is English: it stands in for the organisation's identity provider.
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('admin-demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Abmelden', exact: true }).waitFor();

      // Lock alice with a reason (as the Users page does), and make her active again.
      const users = await gql<{ users: { edges: { node: { id: string } }[] } }>(page, '{ users(where: { username: "alice" }) { edges { node { id } } } }');
      const alice = users.users.edges[0]?.node.id;
      assert.ok(alice, 'alice exists');
      const setState = 'mutation($id: ID!, $state: UserState!, $reason: String) { setUserState(userId: $id, state: $state, reason: $reason) { id } }';
      await gql(page, setState, { id: alice, state: 'LOCKED', reason: 'hat das Unternehmen verlassen' });
      await gql(page, setState, { id: alice, state: 'ACTIVE', reason: 'wieder da' });

      await page.getByRole('link', { name: 'Protokoll' }).click();
      await page.getByRole('heading', { name: 'Audit-Protokoll', level: 1 }).waitFor();
      await page.getByRole('table', { name: 'Audit-Ereignisse' }).waitFor();
      await page.getByRole('columnheader', { name: 'Was geschah' }).waitFor();
      const sentence = page.getByTestId('audit-sentence').filter({ hasText: 'gesperrt' });
      await sentence.first().waitFor();
      const words = (await sentence.first().textContent()) ?? '';
      assert.match(words, /^Ada Admin hat Alice Active gesperrt: hat das Unternehmen verlassen$/, words);
      const all = await page.getByTestId('audit-sentence').allTextContents();
      assert.ok(all.some((s) => s.endsWith('hat sich angemeldet')), `a German sign-in: ${all.join(' | ')}`);
      assert.ok(all.every((s) => !/ signed in| locked |usr_|\b[a-z]+\.[a-z_]+\b/.test(s)), `German, no codes: ${all.join(' | ')}`);

      // The action filter speaks German too, and filters.
      await page.getByRole('combobox', { name: 'Was geschah' }).click();
      await page.getByRole('option', { name: 'Status einer Person geändert' }).click();
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="audit-sentence"]')];
        return rows.length === 2 && rows.every((r) => / hat Alice Active (gesperrt|aktiviert)/.test(r.textContent ?? ''));
      });
      // Details on demand, in German.
      await page.getByText('Details zeigen').first().click();
      await page.getByText(/^Von |^Ohne Adresse/).first().waitFor();
      await screenshot(page, 'audit-de');
    },
    DESKTOP,
    'de-DE',
  );
});
