// Languages: a German browser gets the portal in German (start page and wizard), and the
// header's switcher turns it into English, which stays after a reload.
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { DESKTOP, screenshot, startServer, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('i18n');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

test('a German browser sees the start page and the wizard in German and can switch to English', async () => {
  const context = await browser.newContext({ baseURL: server.url, viewport: DESKTOP, locale: 'de-DE' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  try {
    await page.goto('/');
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await page.getByRole('link', { name: 'Anmelden' }).last().click();
    await page.waitForURL(/\/dev\/idp\//);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Willkommen, Alice Active' }).waitFor();
    await page.getByRole('button', { name: 'Abmelden', exact: true }).waitFor();
    await screenshot(page, 'i18n-01-dashboard-de');

    await page.getByRole('region', { name: 'Virtuelle Smartcard anfordern' }).getByRole('link', { name: 'Virtuelle Smartcard anfordern' }).click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByRole('heading', { name: 'Virtuelle Smartcard anfordern' }).waitFor();
    await page.getByRole('button', { name: 'Weiter', exact: true }).waitFor();
    await page.getByTestId('planned-certificates').getByRole('cell', { name: 'Anmeldung' }).waitFor();
    await screenshot(page, 'i18n-02-wizard-de');

    await page.getByLabel('Sprache', { exact: true }).first().click();
    await page.getByRole('option', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    await page.getByRole('button', { name: 'Next', exact: true }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');

    // The choice outlives the page: a reload keeps English although the browser says German.
    await page.reload();
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome, Alice Active' }).waitFor();
  } catch (err) {
    await screenshot(page, 'failed-i18n').catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
});
