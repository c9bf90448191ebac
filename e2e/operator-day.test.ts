// The help desk's day: olga (an operator) finds carol, locks her card with a reason behind a
// dialog that names the consequence, reads it in the audit log in words, unlocks it, starts
// a Reset PIN for carol and gets the link and code carol needs on her computer (which the
// Desktop App's claim then accepts), follows the card and order pages, and exports the log
// as CSV. carol's card is made through the server's own Desktop App calls (as in
// cardlock.test.ts), so this file needs no pcscd.
import assert from 'node:assert/strict';
import { test, type Browser } from '@playwright/test';

import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard, bridgeCall } from './desktopcalls.ts';
import { cardAction, cardState, exportTrail, findPerson, lockCard, type ConsoleWords } from './operatorsteps.ts';

let server: Server | undefined;
let browser: Browser | undefined;

test.beforeAll(async ({ browser: b }) => {
  server = await startServer('operator-day');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

/** en are the console's English words the steps go by (operatorsteps.ts). */
const en: ConsoleWords = {
  signIn: 'Sign in',
  signOut: 'Sign out',
  people: 'People',
  search: 'Search',
  actionsFor: (serial) => `Actions for card ${serial}`,
  reason: 'Reason',
  lock: (owner, serial) => ({ label: 'Lock…', consequence: new RegExp(`${owner}’s card ${serial} will be locked and its certificates put on hold`), confirm: 'Lock card' }),
  auditTrail: 'Audit trail',
  locked: (actor, owner, serial, reason) => `${actor} locked ${owner}’s card ${serial}: ${reason}`,
  auditLog: 'Audit log',
  exportCSV: 'Export CSV',
};

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
    await findPerson(page, en, 'car', 'carol', 'Carol Active');

    // Lock, with the consequence in words and a reason; the person's audit trail says it in
    // one sentence, with the reason.
    const sentence = await lockCard(page, en, { actor: 'Olga Operator', owner: 'Carol Active' }, serial, 'laptop left on the train', {
      dialog: 'operator-lock-dialog',
      person: 'operator-person',
    });

    // So does the audit log.
    await page.getByRole('link', { name: en.auditLog }).click();
    await page.getByText(sentence).first().waitFor();
    await screenshot(page, 'operator-audit');
    await page.goBack();
    await page.getByRole('heading', { name: 'Carol Active', level: 1 }).waitFor();

    // Unlock, then Reset PIN for carol: olga gets the link and the code, once.
    await cardAction(page, en, serial, { label: 'Unlock…', consequence: /will work again/, confirm: 'Unlock card' }, 'found at the lost property office');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal(await cardState(page, serial), 'ACTIVE');
    await cardAction(page, en, serial, { label: 'Reset PIN…', consequence: /A PIN reset starts for Carol Active’s card/, confirm: 'Start Reset PIN' }, 'forgot the PIN after the holidays');
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
    const csv = await exportTrail(page, en);
    assert.ok(csv.includes('laptop left on the train'), 'the export lacks the reason of the lock');
  });
});
