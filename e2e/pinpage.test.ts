// The Desktop App's PIN page in the portal's look (the pinpage entry of the portal's
// build, served by vscard-bridge): it takes a PIN in the full flow, and it shows a cancel
// in the portal while it waits, without anything being submitted.
import assert from 'node:assert/strict';
import { test } from '@playwright/test';

import { screenshot, signIn, withPage } from './harness.ts';
import { openPinPage, pinPageSuite, startGetCard } from './pinpagesuite.ts';

const suite = pinPageSuite('pinpage');

test('the PIN page in the portal look takes a PIN in the full flow', async () => {
  const { server: srv, browser } = suite;
  if (!srv || !browser) return;
  await withPage(browser, srv, 'pinpage-flow', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');
    const { link, code } = await startGetCard(page);
    const pinPage = await openPinPage(suite, page.context(), link, code);
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
  const { server: srv, browser } = suite;
  if (!srv || !browser) return;
  await withPage(browser, srv, 'pinpage-cancel', async (page) => {
    await signIn(page, srv, 'carol', 'carol-demo');
    const { link, code } = await startGetCard(page);
    const pinPage = await openPinPage(suite, page.context(), link, code);
    // The page has loaded and shown the code: from here on it posts only what the person submits.
    const posts: string[] = [];
    pinPage.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
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
