// The steps of an operator's day, in the words of one language: operator-day.test.ts walks
// them in English, operator-de.test.ts in German. Each step finds what it clicks by the words
// a person reads (ConsoleWords), so the same steps check both catalogues.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

import { gql, repoRoot, screenshot, type Server } from './harness.ts';

/** CardAction names one action of a card's menu and its confirmation dialog. */
export interface CardAction {
  label: string;
  consequence: RegExp;
  confirm: string;
}

/** ConsoleWords are the words of the operator console the steps go by, in one language. */
export interface ConsoleWords {
  signIn: string;
  signOut: string;
  people: string;
  search: string;
  actionsFor: (serial: string) => string;
  reason: string;
  lock: (owner: string, serial: string) => CardAction;
  auditTrail: string;
  locked: (actor: string, owner: string, serial: string, reason: string) => string;
  auditLog: string;
  exportCSV: string;
}

/** signInAs signs in through the portal's button in the page's language and devidp's (English) login page. */
export async function signInAs(page: Page, srv: Server, w: ConsoleWords, username: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('link', { name: w.signIn }).last().click();
  await page.waitForURL(/\/dev\/idp\//);
  // devidp's own login page stands in for the organisation's identity provider.
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.origin === srv.url && !u.pathname.startsWith('/dev/idp') && !u.pathname.startsWith('/auth'));
  await page.getByRole('button', { name: w.signOut, exact: true }).waitFor();
}

/** findPerson searches the People page for query and opens the person linked as username. */
export async function findPerson(page: Page, w: ConsoleWords, query: string, username: string, name: string): Promise<void> {
  await page.getByRole('link', { name: w.people }).click();
  await page.getByLabel(w.search).fill(query);
  await page.getByRole('link', { name: username }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

/** cardAction opens the card's action menu, picks the action and confirms it with reason (none is possible without one); what the dialog shows next is the caller's. */
export async function cardAction(page: Page, w: ConsoleWords, serial: string, a: CardAction, reason: string, shot?: string): Promise<void> {
  await page.getByRole('button', { name: w.actionsFor(serial) }).first().click();
  await page.getByRole('menuitem', { name: a.label }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(a.consequence).waitFor();
  const go = dialog.getByRole('button', { name: a.confirm });
  assert.equal(await go.isDisabled(), true, `${a.confirm} is possible without a reason`);
  await dialog.getByLabel(w.reason).fill(reason);
  if (shot) await screenshot(page, shot);
  await go.click();
}

const qCardState = 'query($s: String!) { card(serial: $s) { state } }';

/** cardState is the card's state as the server has it. */
export async function cardState(page: Page, serial: string): Promise<string> {
  return (await gql<{ card: { state: string } }>(page, qCardState, { s: serial })).card.state;
}

/**
 * lockCard locks the person's card from their page with reason, and finds it said in one
 * sentence in the person's audit trail; it returns the sentence.
 */
export async function lockCard(page: Page, w: ConsoleWords, who: { actor: string; owner: string }, serial: string, reason: string, shots: { dialog?: string; person?: string } = {}): Promise<string> {
  await cardAction(page, w, serial, w.lock(who.owner, serial), reason, shots.dialog);
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal(await cardState(page, serial), 'LOCKED');
  const sentence = w.locked(who.actor, who.owner, serial, reason);
  await page.getByRole('table', { name: w.auditTrail }).getByText(sentence).waitFor();
  if (shots.person) await screenshot(page, shots.person);
  return sentence;
}

/** exportTrail downloads the person's audit trail as CSV from their page and returns it. */
export async function exportTrail(page: Page, w: ConsoleWords): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: w.exportCSV }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0] ?? '', /action/i);
  return csv;
}

/**
 * englishSentences are the sentences of the SPA's English catalogue that German does not
 * share: each text of three words or more between placeholders. A German page showing one
 * of them has a word the translation missed.
 */
export function englishSentences(): string[] {
  const dir = join(repoRoot, 'frontend/src/i18n/locales');
  const leaves = (v: unknown, path: string, out: Map<string, string>) => {
    if (typeof v === 'string') out.set(path, v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, `${path}.${k}`, out);
  };
  const read = (lang: string) => {
    const out = new Map<string, string>();
    for (const f of readdirSync(join(dir, lang))) leaves(JSON.parse(readFileSync(join(dir, lang, f), 'utf8')), f, out);
    return out;
  };
  const en = read('en');
  const de = read('de');
  const found = new Set<string>();
  for (const [key, text] of en) {
    if (de.get(key) === text) continue;
    for (const part of text.split(/\{\{[^}]*\}\}|<\/?\d+>|\$t\([^)]*\)/)) {
      const s = part.trim().replace(/^[\s,.:;–-]+|[\s,.:;–-]+$/g, '');
      if (s.split(/\s+/).length >= 3) found.add(s);
    }
  }
  return [...found];
}

/** assertNoEnglish fails when the page shows one of sentences (englishSentences). */
export async function assertNoEnglish(page: Page, sentences: string[], where: string): Promise<void> {
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  const shown = sentences.filter((s) => text.includes(s));
  assert.deepEqual(shown, [], `English on the German ${where}`);
}
