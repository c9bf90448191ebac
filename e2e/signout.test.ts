// Signing out: the identity provider's session ends too (RP-initiated logout), so the next
// sign-in asks for the password; no token reaches page script; "Sign out everywhere" and an
// administrator's "End sessions" end the sessions of other browsers.
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

// One server per file, in a fresh data folder; the browser is Playwright's, launched as
// playwright.config.ts says (Debian's Chromium).
test.beforeAll(async ({ browser: b }) => {
  server = await startServer('signout');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

/** signedOutHere waits for the portal's landing page without a session. */
async function signedOutHere(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'vscard Self-Service' }).waitFor();
  await page.getByRole('link', { name: 'Sign in' }).last().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
}

test('sign out ends the provider session: signing in again asks for the password', async () => {
  await withPage(browser, server, 'signout-password-again', async (page) => {
    // Everything script could read of the sign-out: the bodies of fetch/XHR answers.
    const scriptBodies: string[] = [];
    page.on('response', (res) => {
      const type = res.request().resourceType();
      if (type === 'fetch' || type === 'xhr') void res.text().then((t) => scriptBodies.push(t), () => undefined);
    });
    await signIn(page, server, 'alice', 'alice-demo');

    // While the provider's session lasts, "Sign in" would go through without a password:
    // that is what signing out must end.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === server.url && u.pathname === '/');
    await signedOutHere(page);

    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.waitForURL(/\/dev\/idp\/login/);
    await page.getByLabel('Password').waitFor();
    await screenshot(page, '20-signin-after-signout-asks-for-password');

    for (const body of scriptBodies) {
      assert.doesNotMatch(body, /id_token|eyJ[A-Za-z0-9_-]{10,}\./, 'a token reached page script');
    }
  });
});

test('sign out everywhere ends the session in the other browser', async () => {
  await withPage(browser, server, 'signout-everywhere-other', async (other) => {
    await signIn(other, server, 'carol', 'carol-demo');
    await withPage(browser, server, 'signout-everywhere-here', async (page) => {
      await signIn(page, server, 'carol', 'carol-demo');
      await page.getByRole('button', { name: 'More sign-out options' }).click();
      await page.getByRole('menuitem', { name: 'Sign out everywhere' }).click();
      await page.waitForURL((u) => u.origin === server.url && u.pathname === '/');
      await signedOutHere(page);
    });
    // The other browser finds out at its next request.
    await other.getByRole('link', { name: 'Cards', exact: true }).click();
    await signedOutHere(other);
  });
});

test('an administrator ends the sessions of a person, after confirming', async () => {
  await withPage(browser, server, 'end-sessions-person', async (person) => {
    await signIn(person, server, 'alice', 'alice-demo');
    await withPage(browser, server, 'end-sessions-admin', async (admin) => {
      await signIn(admin, server, 'admin', 'admin-demo');
      await admin.goto('/admin/users');
      await admin.getByRole('button', { name: 'End sessions of alice' }).click();
      const dialog = admin.getByRole('dialog', { name: 'End the sessions of alice' });
      await dialog.waitFor();
      await dialog.getByLabel('Reason').fill('alice reported her laptop stolen');
      await screenshot(admin, '21-admin-end-sessions-confirm');
      await dialog.getByRole('button', { name: 'End sessions' }).click();
      await admin.getByRole('status').getByText(/alice is signed out everywhere \(1 session ended\)/).waitFor();
    });
    await person.getByRole('link', { name: 'Cards', exact: true }).click();
    await signedOutHere(person);
  });
});
