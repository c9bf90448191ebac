// The operator console: an operator (olga, in vscard-operators) finds a person by the start
// of their username and opens their page. operator-day.test.ts drives the actions.
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('operator');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

test('operator finds carol and opens her page', async () => {
  // carol signs in once, so that the server knows her.
  await withPage(browser, server, 'carol-sign-in', (carol) => signIn(carol, server, 'carol', 'carol-demo'));
  await withPage(browser, server, 'operator-people', async (page) => {
    await signIn(page, server, 'olga', 'olga-demo');
    // An operator is not an administrator: the console, not the administration.
    assert.equal(await page.getByRole('link', { name: 'Option script' }).count(), 0);
    await page.getByRole('link', { name: 'People' }).click();
    await page.getByLabel('Search').fill('CAR');
    const row = page.getByRole('link', { name: 'carol' });
    await row.waitFor();
    await screenshot(page, 'operator-people');
    await row.click();
    await page.getByRole('heading', { name: 'Carol', level: 1 }).waitFor();
    await page.getByText('carol@vscard.test').waitFor();
    await page.getByRole('heading', { name: 'Cards', level: 2 }).waitFor();
  });
});
