// What pinpage.test.ts and words.test.ts share: a server and the real Desktop App for the
// file's tests (skipped without VSCARD_BRIDGE_BIN), and the first steps of Get virtual smart
// card up to the PIN page, in the browser's language.
import { test, type Browser, type BrowserContext, type Page } from '@playwright/test';

import { bridgeBinary, openLinkInBridge, type Bridge } from './bridge.ts';
import { startServer, type Server } from './harness.ts';

/** PinPageSuite is a test file's server, browser and Desktop App; set once beforeAll has run. */
export interface PinPageSuite {
  server?: Server;
  browser?: Browser;
  /** bin is the bridge binary; the file's tests are skipped without one. */
  bin?: string;
  /** bridges are stopped after the file's tests. */
  bridges: Bridge[];
}

/** pinPageSuite sets up a test file: its own server named name, and the bridges its tests open. */
export function pinPageSuite(name: string): PinPageSuite {
  const found = bridgeBinary();
  const suite: PinPageSuite = { bridges: [], bin: 'bin' in found ? found.bin : undefined };
  test.skip('skip' in found, 'skip' in found ? found.skip : undefined);
  test.beforeAll(async ({ browser }) => {
    suite.server = await startServer(name);
    suite.browser = browser;
  });
  test.afterAll(async () => {
    for (const br of suite.bridges) await br.stop();
    await suite.server?.stop();
  });
  return suite;
}

/** StartWords are the portal's words the first steps look for, in one language. */
export interface StartWords {
  getCard: string;
  intro: string;
  next: string;
  handoff: string;
  open: string;
}

export const ENGLISH_START: StartWords = {
  getCard: 'Get virtual smart card',
  intro: 'Get a virtual smart card',
  next: 'Next',
  handoff: 'Open the vscard Desktop App',
  open: 'Open Desktop App',
};

/**
 * startGetCard starts Get virtual smart card from the signed-in start page and clicks Next:
 * it returns the hand-off dialog's link and verification code.
 */
export async function startGetCard(page: Page, w: StartWords = ENGLISH_START): Promise<{ link: string; code: string }> {
  await page.getByRole('region', { name: w.getCard }).getByRole('link', { name: w.getCard }).click();
  await page.getByRole('heading', { name: w.intro }).waitFor();
  await page.getByRole('button', { name: w.next, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: w.handoff });
  const link = (await dialog.getByRole('link', { name: w.open }).getAttribute('href')) ?? '';
  const code = (await dialog.getByTestId('verification-code').textContent())?.trim() ?? '';
  return { link, code };
}

/** openPinPage hands link to a new Desktop App and opens its PIN page in context, once it shows code. */
export async function openPinPage(suite: PinPageSuite, context: BrowserContext, link: string, code: string): Promise<Page> {
  if (!suite.bin) throw new Error('no Desktop App to open the link with');
  const bridge = await openLinkInBridge(suite.bin, link);
  suite.bridges.push(bridge);
  const pinPage = await context.newPage();
  await pinPage.goto(bridge.pinPage);
  await pinPage.getByText(code).waitFor({ timeout: 30_000 });
  return pinPage;
}
