// A phone (375x667, the smallest common screen): the order wizard's stepper and the Cards
// page fit the screen; nothing makes the page scroll sideways (issue 19 §5). The pages pass
// the axe checks at this size too (harness.ts).
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard } from './desktopcalls.ts';
import { itemName, openCardMenu } from './cardmenu.ts';

const SMALL_PHONE = { width: 375, height: 667 };

let server: Server;
let browser: Browser;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('phone');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

/** overflow is how far the page is wider than the screen, in CSS pixels (0 when it fits). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test('on a small phone the wizard and the Cards page fit the screen', async () => {
  await withPage(
    browser,
    server,
    'phone-small',
    async (page) => {
      await signIn(page, server, 'alice', 'alice-demo');
      await page.goto('/get-virtual-smart-card');
      await page.waitForURL(/\/orders\/ord_/);
      const stepper = page.getByLabel('Steps', { exact: false }).first();
      await stepper.waitFor();
      await page.getByRole('button', { name: 'Next', exact: true }).waitFor();
      await screenshot(page, 'phone-wizard');
      assert.equal(await overflow(page), 0, 'the wizard scrolls sideways');
      const box = await stepper.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= SMALL_PHONE.width + 0.5, `stepper within the screen: ${JSON.stringify(box)}`);

      await page.goto('/cards');
      await page.getByRole('heading', { name: 'Cards', level: 1 }).waitFor();
      await screenshot(page, 'phone-cards');
      assert.equal(await overflow(page), 0, 'the Cards page scrolls sideways');
    },
    SMALL_PHONE,
  );
});

test('on a small phone a card, its certificate table and its actions menu fit the screen', async () => {
  await withPage(
    browser,
    server,
    'phone-card-menu',
    async (page) => {
      await signIn(page, server, 'carol', 'carol-demo');
      const serial = await activeCard(page, server);
      await page.goto('/cards');
      const table = page.getByRole('table', { name: `Certificates of card ${serial}` });
      await table.waitFor();
      // The certificate table keeps its columns readable and scrolls within its own box.
      const tbox = await table.boundingBox();
      assert.ok(tbox && tbox.width >= 600, `the certificate table is squeezed: ${JSON.stringify(tbox)}`);
      assert.equal(await overflow(page), 0, 'the Cards page with a card scrolls sideways');

      const menu = await openCardMenu(page, serial);
      const lock = menu.getByRole('menuitem', { name: itemName('Lock card') });
      await lock.waitFor();
      const box = await menu.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= SMALL_PHONE.width + 0.5, `menu within the screen: ${JSON.stringify(box)}`);
      await screenshot(page, 'phone-card-menu');
      // The full-page screenshot resizes the page, which closes the menu; a person's tap opens it again.
      await (await openCardMenu(page, serial)).getByRole('menuitem', { name: itemName('Lock card') }).tap();
      await page.waitForURL(/\/orders\//);
    },
    SMALL_PHONE,
  );
});
