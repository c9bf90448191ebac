// The Desktop App's PIN page in the portal's look (the pinpage entry of the portal's
// build, served by vscard-bridge): it takes a PIN in the full flow, and it shows a cancel
// in the portal while it waits, without anything being submitted.
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

const bridgeBin = bridgeBinary();
const skip = 'skip' in bridgeBin ? bridgeBin.skip : false;

let server: Server | undefined;
let browser: Browser | undefined;
const bridges: Bridge[] = [];

test.skip(skip !== false, skip || undefined);

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('pinpage');
  browser = b;
});

test.afterAll(async () => {
  for (const br of bridges) await br.stop();
  await server?.stop();
});

async function startOrder(page: Page, srv: Server, user: string, password: string) {
  await signIn(page, srv, user, password);
  await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
  await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  return { link, code };
}

test('the PIN page in the portal look takes a PIN in the full flow', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  await withPage(browser, srv, 'pinpage-flow', async (page) => {
    const { link, code } = await startOrder(page, srv, 'alice', 'alice-demo');
    const bridge = await openLinkInBridge(bridgeBin.bin, link);
    bridges.push(bridge);
    const pinPage = await page.context().newPage();
    await pinPage.goto(bridge.pinPage);
    await pinPage.getByText(code).waitFor({ timeout: 30_000 });
    // The portal's component library, and the policy in one sentence per rule.
    assert.ok((await pinPage.locator('.mantine-Button-root').count()) > 0, 'the page is built with Mantine');
    const rules = await pinPage.getByTestId('pin-rules').locator('li').allTextContents();
    assert.ok(rules.some((r) => /^\d+ to \d+ digits$|^\d+ digits$/.test(r)), `length rule: ${rules.join(' | ')}`);
    assert.ok(!rules.some((r) => /dcba|characters|wrong PINs/.test(r)), `rules: ${rules.join(' | ')}`);
    await screenshot(pinPage, '20-bridge-pin-page');

    // A mismatch is its own message.
    await pinPage.getByLabel('New PIN').fill('470215');
    await pinPage.getByLabel('Type it again').fill('470216');
    await pinPage.getByRole('button', { name: 'Create my card' }).click();
    await pinPage.locator('[data-code="pin_mismatch"]').waitFor();

    await pinPage.getByLabel('Type it again').fill('470215');
    await pinPage.getByRole('button', { name: 'Create my card' }).click();
    await pinPage.getByText('Your virtual smart card is ready').waitFor({ timeout: 120_000 });
    await page.getByRole('heading', { name: 'Your new card' }).waitFor({ timeout: 120_000 });
    await screenshot(pinPage, '22-bridge-card-ready');
  });
});

test('a cancel in the portal shows on the waiting PIN page at once', async () => {
  if (!server || !browser || 'skip' in bridgeBin) return;
  const srv = server;
  await withPage(browser, srv, 'pinpage-cancel', async (page) => {
    const { link, code } = await startOrder(page, srv, 'carol', 'carol-demo');
    const bridge = await openLinkInBridge(bridgeBin.bin, link);
    bridges.push(bridge);
    const pinPage = await page.context().newPage();
    const posts: string[] = [];
    pinPage.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await pinPage.goto(bridge.pinPage);
    await pinPage.getByText(code).waitFor({ timeout: 30_000 });
    await pinPage.getByLabel('New PIN').waitFor();

    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('dialog', { name: 'Cancel this order?' }).getByRole('button', { name: 'Cancel order' }).click();

    const ended = pinPage.getByTestId('run-ended');
    await ended.waitFor({ timeout: 60_000 });
    assert.match((await ended.textContent()) ?? '', /cancelled in the portal/);
    assert.doesNotMatch((await pinPage.locator('body').textContent()) ?? '', /CANCELLED|DESKTOP_APP_CONNECTED|ORDER_ENDED/);
    assert.deepEqual(posts, [], 'nothing was submitted');
    await screenshot(pinPage, '27-bridge-cancelled-in-portal');
  });
});
