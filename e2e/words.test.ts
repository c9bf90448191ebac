// The words people read (issue 19 §2, §3), in English and in German: the PIN page's rules
// (one per kind, "digits", no "dcba", the retry count apart), a PIN typed too long is
// told, not cut, a mismatch is its own message, a cancel in the portal shows on the
// waiting PIN page without anything being submitted, and both sides then say what
// happened without a state name: the portal says what the server took back.
import assert from 'node:assert/strict';
import { test, type Page } from '@playwright/test';

import { screenshot, withPage, type Server } from './harness.ts';
import { openPinPage, pinPageSuite, startGetCard, type StartWords } from './pinpagesuite.ts';

const suite = pinPageSuite('words');

interface Words extends StartWords {
  locale: string;
  user: [string, string];
  signIn: string;
  signOut: string;
  cancel: string;
  cancelTitle: string;
  cancelOrder: string;
  lengthRule: RegExp;
  retries: RegExp;
  newPIN: string;
  again: string;
  submit: string;
  tooLong: string;
  problems: string;
  mismatch: string;
  endedHere: RegExp;
  endedTitle: string;
  undone: RegExp;
}

const languages: Words[] = [
  {
    locale: 'en-GB', user: ['alice', 'alice-demo'], signIn: 'Sign in', signOut: 'Sign out', getCard: 'Get virtual smart card', intro: 'Get a virtual smart card',
    next: 'Next', cancel: 'Cancel', handoff: 'Open the vscard Desktop App', open: 'Open Desktop App',
    cancelTitle: 'Cancel this order?', cancelOrder: 'Cancel order',
    lengthRule: /^\d+ to \d+ digits$|^\d+ digits$/, retries: /^The card blocks after \d+ wrong PINs in a row\.$/,
    newPIN: 'New PIN', again: 'Type it again', submit: 'Create my card',
    tooLong: 'This PIN has 9 characters; at most 8 are allowed.', problems: 'Please check the PINs',
    mismatch: 'The two new PINs are not the same. Type the new PIN twice.',
    endedHere: /The order was cancelled in the portal, or it expired\. Nothing was changed on this computer/,
    endedTitle: 'The order was cancelled',
    undone: /^The card the Desktop App had started was deleted; no certificate had been issued for it\. You can start again/,
  },
  {
    locale: 'de-DE', user: ['carol', 'carol-demo'], signIn: 'Anmelden', signOut: 'Abmelden', getCard: 'Virtuelle Smartcard anfordern', intro: 'Virtuelle Smartcard anfordern',
    next: 'Weiter', cancel: 'Abbrechen', handoff: 'Die vscard Desktop-App öffnen', open: 'Desktop-App öffnen',
    cancelTitle: 'Diesen Auftrag abbrechen?', cancelOrder: 'Auftrag abbrechen',
    lengthRule: /^\d+ bis \d+ Ziffern$|^\d+ Ziffern$/, retries: /^Die Karte sperrt nach \d+ falschen PINs hintereinander\.$/,
    newPIN: 'Neue PIN', again: 'Noch einmal eingeben', submit: 'Meine Karte anlegen',
    tooLong: 'Diese PIN hat 9 Zeichen; höchstens 8 sind erlaubt.', problems: 'Bitte prüfen Sie die PINs',
    mismatch: 'Die beiden neuen PINs sind nicht gleich. Geben Sie die neue PIN zweimal gleich ein.',
    endedHere: /Der Auftrag wurde im Portal abgebrochen oder ist abgelaufen\. Auf diesem Computer wurde nichts geändert/,
    endedTitle: 'Der Auftrag wurde abgebrochen',
    undone: /^Die Karte, die die Desktop-App begonnen hatte, wurde gelöscht; für sie war noch kein Zertifikat ausgestellt\. Sie können jederzeit neu beginnen/,
  },
];

// A state name, an error code or a Go error chain where a person reads words.
const notWords = /CANCELLED|DESKTOP_APP_CONNECTED|ORDER_ENDED|ILLEGAL_STATE|cannot move to|ask for PIN|Nothing was left behind|reader\.conf|--vpcd|ECCP256|slot 9A|Virtual PCD/;

/** signIn signs in through the portal's button in w's language. */
async function signIn(page: Page, srv: Server, w: Words) {
  await page.goto('/');
  await page.getByRole('link', { name: w.signIn }).last().click();
  await page.waitForURL(/\/dev\/idp\//);
  await page.getByLabel('Username').fill(w.user[0]);
  await page.getByLabel('Password').fill(w.user[1]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.origin === srv.url && !u.pathname.startsWith('/dev/idp') && !u.pathname.startsWith('/auth'));
  await page.getByRole('button', { name: w.signOut, exact: true }).waitFor();
}

for (const w of languages) {
  test(`${w.locale}: the PIN page's words, and a cancel in the portal on both sides`, async () => {
    const { server: srv, browser } = suite;
    if (!srv || !browser) return;
    await withPage(browser, srv, `words-${w.locale}`, async (page, context) => {
      // The browser's language, for the portal and for the PIN page alike.
      await context.addInitScript((langs: string[]) => {
        Object.defineProperty(navigator, 'languages', { get: () => langs });
        Object.defineProperty(navigator, 'language', { get: () => langs[0] });
      }, [w.locale, w.locale.slice(0, 2)]);
      await signIn(page, srv, w);
      const { link, code } = await startGetCard(page, w);
      const pinPage = await openPinPage(suite, context, link, code);
      const posts: string[] = [];
      pinPage.on('request', (r) => {
        if (r.method() === 'POST') posts.push(new URL(r.url()).pathname.split('/').pop() ?? '');
      });
      assert.equal(await pinPage.locator('html').getAttribute('lang'), w.locale.slice(0, 2));

      // The rules: the length in digits, one line per kind of rule, no letters in the
      // examples of a digits-only policy, and the retry count apart from the list.
      const rules = await pinPage.getByTestId('pin-rules').locator('li').allTextContents();
      assert.ok(rules.some((r) => w.lengthRule.test(r)), `length rule: ${rules.join(' | ')}`);
      assert.ok(rules.length <= 5, `${rules.length} rules: ${rules.join(' | ')}`);
      assert.ok(!rules.some((r) => /dcba|abcd|8 to 8|8 bis 8|PINs/.test(r)), `rules: ${rules.join(' | ')}`);
      assert.ok(await pinPage.getByText(w.retries).isVisible(), 'the retry count is said apart from the rules');

      // A PIN typed too long is told, and kept as typed: nothing cuts it.
      const pin = pinPage.getByLabel(w.newPIN, { exact: true });
      await pin.fill('470215981');
      assert.equal((await pin.inputValue()).length, 9);
      await pinPage.getByText(w.tooLong).waitFor();

      // A mismatch is its own message, under its own heading.
      await pin.fill('470215');
      await pinPage.getByLabel(w.again, { exact: true }).fill('470216');
      await pinPage.getByRole('button', { name: w.submit }).click();
      const problems = pinPage.getByRole('alert').filter({ hasText: w.problems });
      await problems.locator('[data-code="pin_mismatch"]').waitFor();
      assert.equal((await problems.locator('li').allTextContents()).join('|'), w.mismatch);
      await screenshot(pinPage, `words-${w.locale}-mismatch`);

      // The person cancels in the portal while the PIN page waits for the PIN: the page
      // follows at once, with nothing more submitted.
      const submitted = posts.length;
      await page.getByRole('button', { name: w.cancel, exact: true }).click();
      await page.getByRole('dialog', { name: w.cancelTitle }).getByRole('button', { name: w.cancelOrder }).click();
      const ended = pinPage.getByTestId('run-ended');
      await ended.waitFor({ timeout: 60_000 });
      assert.match((await ended.textContent()) ?? '', w.endedHere);
      assert.doesNotMatch((await pinPage.locator('body').textContent()) ?? '', notWords);
      assert.deepEqual(posts.slice(submitted), [], 'nothing was submitted after the cancel');
      await screenshot(pinPage, `words-${w.locale}-cancelled-in-portal`);

      // The portal says what the server took back: the card the Desktop App had begun.
      const msg = page.getByTestId('order-ended');
      await msg.getByText(w.endedTitle).waitFor({ timeout: 30_000 });
      const words = (await msg.textContent()) ?? '';
      assert.match(words.replace(w.endedTitle, ''), w.undone);
      assert.doesNotMatch((await page.locator('body').textContent()) ?? '', notWords);
      await screenshot(page, `words-${w.locale}-portal-cancelled`);
    });
  });
}
