// The help desk's day: olga (an operator) finds carol, locks her card with a reason behind a
// dialog that names the consequence, reads it in the audit log in words, unlocks it, starts
// a Reset PIN for carol and gets the link and code carol needs on her computer (which the
// Desktop App's claim then accepts), follows the card and order pages, and exports the log
// as CSV. carol's card is made through the server's own Desktop App calls (as in
// cardlock.test.ts), so this file needs no pcscd.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test, type Browser, type Page } from '@playwright/test';

import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard, bridgeCall } from './desktopcalls.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('operator-day');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});


const qCardState = 'query($s: String!) { card(serial: $s) { state } }';

/** cardAction opens the card's action menu on the page, picks label and confirms with reason. */
async function cardAction(page: Page, serial: string, label: string, consequence: RegExp, reason: string, confirm: string, shot?: string) {
  await page.getByRole('button', { name: `Actions for card ${serial}` }).first().click();
  await page.getByRole('menuitem', { name: label }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(consequence).waitFor();
  const go = dialog.getByRole('button', { name: confirm });
  // No reason, no action.
  assert.equal(await go.isDisabled(), true, `${confirm} is possible without a reason`);
  await dialog.getByLabel('Reason').fill(reason);
  if (shot) await screenshot(page, shot);
  await go.click();
}

test('olga finds carol, locks her card with a reason, reads it in the log, starts Reset PIN, exports the log', async () => {
  if (!server || !browser) return;
  const srv = server;
  let serial = '';
  await withPage(browser, srv, 'operator-day-carol', async (page) => {
    await signIn(page, srv, 'carol', 'carol-demo');
    serial = await activeCard(page, srv);
  });

  await withPage(browser, srv, 'operator-day-olga', async (page) => {
    await signIn(page, srv, 'olga', 'olga-demo');
    await page.getByRole('link', { name: 'People' }).click();
    await page.getByLabel('Search').fill('car');
    await page.getByRole('link', { name: 'carol' }).click();
    await page.getByRole('heading', { name: 'Carol Active', level: 1 }).waitFor();

    // Lock, with the consequence in words and a reason.
    await cardAction(page, serial, 'Lock…', new RegExp(`Carol Active’s card ${serial} will be locked and its certificates put on hold`), 'laptop left on the train', 'Lock card', 'operator-lock-dialog');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    const locked = await gql<{ card: { state: string } }>(page, qCardState, { s: serial });
    assert.equal(locked.card.state, 'LOCKED');

    // The person's audit trail says it in one sentence, with the reason.
    const sentence = `Olga Operator locked Carol Active’s card ${serial}: laptop left on the train`;
    await page.getByRole('table', { name: 'Audit trail' }).getByText(sentence).waitFor();
    await screenshot(page, 'operator-person');

    // So does the audit log.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText(sentence).first().waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Carol Active', level: 1 }).waitFor();

    // Unlock, then Reset PIN for carol: olga gets the link and the code, once.
    await cardAction(page, serial, 'Unlock…', /will work again/, 'found at the lost property office', 'Unlock card');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal((await gql<{ card: { state: string } }>(page, qCardState, { s: serial })).card.state, 'ACTIVE');
    await cardAction(page, serial, 'Reset PIN…', /A PIN reset starts for Carol Active’s card/, 'forgot the PIN after the holidays', 'Start Reset PIN');
    const handoff = page.getByTestId('handoff');
    await handoff.waitFor();
    const link = (await page.getByTestId('handoff-link').innerText()).trim();
    const code = (await page.getByTestId('handoff-code').innerText()).trim();
    assert.match(link, /^vscard:\/\/enroll\?/);
    assert.ok(code.length > 0, 'no verification code');
    await screenshot(page, 'operator-reset-pin');
    // What olga passes on is what carol's Desktop App needs: its claim shows the same code.
    const u = new URL(link);
    const claimed = await bridgeCall<{ claimOrder: { verificationCode: string; card: { serial: string } } }>(
      srv,
      'mutation($id: ID!, $t: String!) { claimOrder(orderId: $id, token: $t, device: {reader: "Virtual PCD 00 00"}) { verificationCode card { serial } } }',
      { id: u.searchParams.get('order'), t: u.searchParams.get('token') },
    );
    assert.equal(claimed.claimOrder.verificationCode, code);
    assert.equal(claimed.claimOrder.card.serial, serial);
    await handoff.getByRole('button', { name: 'Done' }).click();

    // The order page: its steps (who, when, from where) and the same verification code.
    await page.getByRole('link', { name: 'Reset PIN' }).first().click();
    await page.getByRole('heading', { name: /Reset PIN for Carol Active/, level: 1 }).waitFor();
    assert.equal((await page.getByTestId('verification-code').innerText()).trim(), code);
    await page.getByText(/Olga Operator started resetting a PIN for Carol Active: forgot the PIN after the holidays/).waitFor();
    await screenshot(page, 'operator-order');

    // The card page: owner, history with reasons, certificates.
    await page.getByRole('link', { name: serial }).click();
    await page.getByRole('heading', { name: `Card ${serial}`, level: 1 }).waitFor();
    await page.getByText(`Olga Operator unlocked Carol Active’s card ${serial}: found at the lost property office`).waitFor();
    // How the keys are held, in words: this card's Desktop App sent no TPM evidence.
    await page.getByText('Keys held').waitFor();
    await page.getByText('In software on the computer').waitFor();
    await screenshot(page, 'operator-card');

    // The export: carol's events as CSV, the lock and its reason among them.
    await page.getByRole('link', { name: 'Back to Carol Active' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv.split('\n')[0] ?? '', /action/i);
    assert.ok(csv.includes('laptop left on the train'), 'the export lacks the reason of the lock');
  });
});
