// Self-Service without the Desktop App: sign in, the dashboard, the wizard up to the
// hand-off, cancel at every step that needs no bridge, and an inactive user.
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { gql, PHONE, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

// One server per file, in a fresh data folder; the browser is Playwright's, launched as
// playwright.config.ts says (Debian's Chromium).
test.beforeAll(async ({ browser: b }) => {
  server = await startServer('selfservice');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

interface MyOrders {
  me: {
    cards: { totalCount: number };
    orders: { edges: { node: { id: string; state: string } }[] };
  };
}

/** recorded is what the server holds for the signed-in user: their cards and orders. */
async function recorded(page: Page): Promise<MyOrders['me']> {
  const data = await gql<MyOrders>(page, '{ me { cards { totalCount } orders(first: 50) { edges { node { id state } } } } }');
  return data.me;
}

function orderIdOf(page: Page): string {
  const m = /\/orders\/([^/?#]+)/.exec(page.url());
  assert.ok(m?.[1], `not on an order page: ${page.url()}`);
  return m[1];
}

async function confirmCancel(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Cancel this order?' });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByTestId('order-ended').getByText('The order was cancelled').waitFor();
}

test('alice signs in, starts the wizard, gets the Desktop App link, and cancels in the hand-off dialog', async () => {
  await withPage(browser, server, 'alice-handoff', async (page) => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'vscard Self-Service' }).waitFor();
    await screenshot(page, '00-landing');

    await signIn(page, server, 'alice', 'alice-demo');
    await page.getByRole('heading', { name: 'Welcome, Alice Active' }).waitFor();
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Active');
    const tile = page.getByRole('region', { name: 'Get virtual smart card' });
    const start = tile.getByRole('link', { name: 'Get virtual smart card' });
    await start.waitFor();
    await screenshot(page, '01-dashboard');

    await start.click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    const planned = page.getByTestId('planned-certificates');
    await planned.getByRole('cell', { name: 'Authentication' }).waitFor();
    await screenshot(page, '02-wizard-intro');

    await page.getByRole('button', { name: 'Next' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
    await dialog.waitFor();
    const link = dialog.getByRole('link', { name: 'Open Desktop App' });
    const href = await link.getAttribute('href');
    assert.match(href ?? '', /^vscard:\/\/enroll\?/);
    assert.match(href ?? '', /[?&]token=[^&]+/);
    assert.match(href ?? '', new RegExp(`[?&]order=${orderIdOf(page)}(&|$)`));
    const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
    assert.match(code, /^[A-Z0-9]{3,4}-[A-Z0-9]{3,4}$/);
    assert.equal(await page.getByText('That did not work').count(), 0, 'Next reported no error');
    await screenshot(page, '03-wizard-handoff-dialog');

    // The link is shown once; after a reload the wizard asks for a new one.
    await page.reload();
    await dialog.waitFor();
    const renewed = await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href');
    assert.match(renewed ?? '', /^vscard:\/\/enroll\?/);
    assert.notEqual(renewed, href, 'a reload issues a new link');
    assert.equal((await dialog.getByTestId('verification-code').textContent())?.trim(), code, 'same order, same code');

    // Hiding the dialog shows the live progress underneath.
    await dialog.getByRole('button', { name: 'Hide this dialog' }).click();
    await page.getByText('Waiting for the Desktop App', { exact: true }).waitFor();
    await screenshot(page, '04-wizard-waiting-for-desktop-app');
    await page.getByRole('button', { name: 'Show the Desktop App link' }).click();

    await dialog.getByRole('button', { name: 'Cancel order' }).click();
    await screenshot(page, '05-wizard-cancel-confirm');
    await confirmCancel(page);
    assert.equal(await page.getByText('That did not work').count(), 0, 'Cancel reported no error');
    await screenshot(page, '06-wizard-cancelled');

    const me = await recorded(page);
    assert.equal(me.cards.totalCount, 0, 'no card left behind');
    assert.deepEqual(
      me.orders.edges.map((e) => e.node.state),
      ['CANCELLED'],
    );

    await page.getByRole('link', { name: 'Cards' }).click();
    await page.getByTestId('no-cards').waitFor();
  });
});

test('alice cancels at the intro step; Start again begins a new order', async () => {
  await withPage(browser, server, 'alice-intro', async (page) => {
    await signIn(page, server, 'alice', 'alice-demo');
    await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    const first = orderIdOf(page);

    // Reloading mid-order resumes from the server, and the dashboard offers Continue.
    await page.goto('/');
    await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Continue' }).click();
    await page.waitForURL(new RegExp(`/orders/${first}$`));
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();

    // "Keep going" leaves the order as it is.
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('dialog', { name: 'Cancel this order?' }).getByRole('button', { name: 'Keep going' }).click();
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();

    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await confirmCancel(page);
    assert.equal(await page.getByRole('button', { name: 'Next' }).count(), 0, 'no Next after the end');

    await page.getByRole('link', { name: 'Start again' }).click();
    await page.waitForURL((u) => /\/orders\/ord_/.test(u.pathname) && !u.pathname.endsWith(first));
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await confirmCancel(page);

    const me = await recorded(page);
    assert.equal(me.cards.totalCount, 0);
    assert.ok(me.orders.edges.length >= 3);
    assert.ok(me.orders.edges.every((e) => e.node.state === 'CANCELLED'), 'every order ended CANCELLED');

    await page.goto('/cards');
    await page.getByTestId('no-cards').waitFor();
    await screenshot(page, '07-cards-empty');
  });
});

test('when the Desktop App does not connect within a minute, the wizard explains how to start it', async () => {
  await withPage(browser, server, 'alice-slow-desktop-app', async (page) => {
    await signIn(page, server, 'alice', 'alice-demo');
    // A fake clock: a minute passes without waiting for it.
    await page.clock.install();
    await page.goto('/get-virtual-smart-card');
    await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
    const first = await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href');
    assert.equal(await dialog.getByTestId('desktop-app-help').count(), 0, 'no help right away');

    await page.clock.fastForward(61_000);
    const help = dialog.getByTestId('desktop-app-help');
    await help.waitFor();
    assert.match((await help.textContent()) ?? '', /vscard-bridge install.*vscard-bridge serve/s);
    await screenshot(page, '03b-wizard-desktop-app-help');

    await help.getByRole('button', { name: 'Get a new link' }).click();
    await help.waitFor({ state: 'detached' });
    const second = await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href');
    assert.match(second ?? '', /^vscard:\/\/enroll\?/);
    assert.notEqual(second, first, 'a new link');

    await dialog.getByRole('button', { name: 'Cancel order' }).click();
    await confirmCancel(page);
  });
});

test('bob (inactive) cannot start: the tile says why', async () => {
  await withPage(browser, server, 'bob', async (page) => {
    await signIn(page, server, 'bob', 'bob-demo');
    const tile = page.getByRole('region', { name: 'Get virtual smart card' });
    const button = tile.getByRole('button', { name: 'Get virtual smart card' });
    await button.waitFor();
    assert.ok(await button.isDisabled(), 'the start button is disabled');
    const why = (await tile.getByRole('alert').or(tile.locator('[id$="-why"]')).first().textContent()) ?? '';
    assert.match(why, /inactive/i);
    assert.equal(await page.getByLabel(/Account state/).textContent(), 'Inactive');
    await screenshot(page, '08-dashboard-inactive-user');

    // Going to the start address directly is refused by the server, with its reason.
    await page.goto('/get-virtual-smart-card');
    await page.getByText('The order could not be started').waitFor();
    const me = await recorded(page);
    assert.equal(me.orders.edges.length, 0, 'no order was created');

    // Signing out in another tab ends the session here too: the next request finds out,
    // and the app shows the sign-in page instead of errors.
    const other = await page.context().newPage();
    await other.goto('/cards');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'vscard Self-Service' }).waitFor();
    await other.close();
    await page.getByRole('link', { name: 'Cards', exact: true }).click();
    await page.getByRole('heading', { name: 'vscard Self-Service' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  });
});

test('on a phone the navigation sits behind a burger menu', async () => {
  await withPage(
    browser,
    server,
    'phone',
    async (page) => {
      await signIn(page, server, 'carol', 'carol-demo');
      const nav = page.locator('#main-navigation');
      const onScreen = () => nav.evaluate((el) => el.getBoundingClientRect().right > 0 && !(el as HTMLElement).inert);
      assert.equal(await onScreen(), false, 'navigation hidden at first');
      await screenshot(page, '09-phone-dashboard');
      await page.getByRole('button', { name: 'Toggle navigation' }).click();
      await page.waitForFunction(() => (document.querySelector('#main-navigation')?.getBoundingClientRect().left ?? -1) >= 0);
      assert.equal(await onScreen(), true, 'navigation shown');
      const cards = nav.getByRole('link', { name: 'Cards', exact: true });
      await screenshot(page, '09-phone-menu');
      await cards.click();
      await page.getByRole('heading', { name: 'Cards', level: 1 }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Toggle navigation' }).getAttribute('aria-expanded'), 'false', 'menu closed after navigating');
    },
    PHONE,
  );
});
