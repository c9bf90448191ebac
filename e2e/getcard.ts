// Steps of "Get virtual smart card" that several end-to-end tests walk the same way: the
// portal's start and hand-off dialog, the PIN typed into the Desktop App's PIN page, and an
// administrator's change to the option script. The tests assert what they are about; these
// steps only fail when the step itself cannot be taken.
import assert from 'node:assert/strict';
import type { Page } from '@playwright/test';

import { gql, signIn, type Server } from './harness.ts';

/**
 * startOrder signs in, starts "Get virtual smart card", clicks Next and returns what the
 * Open Desktop App dialog offers: the vscard:// link and the verification code.
 */
export async function startOrder(page: Page, srv: Server, user: string, password: string) {
  await signIn(page, srv, user, password);
  await page.getByRole('region', { name: 'Get virtual smart card' }).getByRole('link', { name: 'Get virtual smart card' }).click();
  await page.getByRole('heading', { name: 'Get a virtual smart card' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open the vscard Desktop App' });
  const link = (await dialog.getByRole('link', { name: 'Open Desktop App' }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  assert.match(link, /^vscard:\/\/enroll\?/);
  return { dialog, link, code };
}

/**
 * createCard types pin twice into the Desktop App's PIN page and clicks Create my card;
 * it fails when the page refuses the form itself (an HTTP error, not a PIN rule).
 */
export async function createCard(pinPage: Page, pin: string): Promise<void> {
  await pinPage.getByLabel('New PIN').fill(pin);
  await pinPage.getByLabel('Type it again').fill(pin);
  const [post] = await Promise.all([
    pinPage.waitForResponse((r) => r.request().method() === 'POST'),
    pinPage.getByRole('button', { name: 'Create my card' }).click(),
  ]);
  if (post.status() >= 400) {
    const origin = await post.request().headerValue('origin');
    const hint =
      origin === 'null'
        ? ' — browsers send "Origin: null" with form posts from a page whose referrer policy is no-referrer; the PIN page needs Referrer-Policy: same-origin (desktop-bridge/pinpage)'
        : '';
    assert.fail(`the PIN page refused the PIN (HTTP ${post.status()}, Origin: ${origin}): ${await post.text()}${hint}`);
  }
}

/**
 * setOption saves a new version of the option script, signed in as an administrator on
 * admin: the line that matches line (a /^NAME = .../m pattern) becomes value.
 */
export async function setOption(admin: Page, line: RegExp, value: string, comment: string): Promise<void> {
  const { optionScript } = await gql<{ optionScript: { current: { source: string } } }>(admin, '{ optionScript { current { source } } }');
  const source = optionScript.current.source.replace(line, value);
  assert.notEqual(source, optionScript.current.source, `the option script has a line ${String(line)}`);
  await gql(admin, 'mutation($s: String!, $c: String) { updateOptionScript(source: $s, comment: $c) { current { version } } }', { s: source, c: comment });
}
