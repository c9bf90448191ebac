// Test harness for the end-to-end tests: a real vscard-server in a temporary data folder
// on a free port, and browser contexts that fail a test on a Content-Security-Policy
// violation. The browser is @playwright/test's, Debian's Chromium (playwright.config.ts).
// It builds nothing: `make e2e` builds the SPA and the server first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { AxeResults, Result } from 'axe-core';

export const repoRoot = resolve(import.meta.dirname, '..');
export const artifacts = join(repoRoot, 'artifacts');
export const screenshotDir = join(artifacts, 'screenshots');

/** freePort asks the kernel for a port nobody listens on. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

export interface Server {
  url: string;
  dataDir: string;
  logFile: string;
  stop: () => Promise<void>;
}

/**
 * startServer runs vscard-server (env VSCARD_SERVER_BIN, default bin/vscard-server) with
 * a fresh data folder and waits until it answers. Its log goes to artifacts/logs/<name>.log.
 */
export async function startServer(name: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const bin = resolve(repoRoot, process.env.VSCARD_SERVER_BIN ?? 'bin/vscard-server');
  if (!existsSync(bin)) throw new Error(`vscard-server not found at ${bin}: build it first (make build) or set VSCARD_SERVER_BIN`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `vscard-e2e-${name}-`));
  mkdirSync(join(artifacts, 'logs'), { recursive: true });
  const logFile = join(artifacts, 'logs', `${name}-server.log`);
  // Appended: a test file's servers share the name, and the one a failed test used must
  // survive the next (Playwright starts a fresh worker, and beforeAll a new server, after a
  // failure).
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`--- vscard-server for ${name}, started ${new Date().toISOString()}\n`);
  const child: ChildProcess = spawn(bin, ['--addr', `127.0.0.1:${port}`, '--public-url', url, '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, VSCARD_LOG_LEVEL: 'debug', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));

  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vscard-server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${url}/auth/session`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`vscard-server did not answer within 30 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dataDir, logFile, stop };
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** CSPViolation is one thing a page's Content-Security-Policy refused. */
export interface CSPViolation {
  page: string;
  directive: string;
  blocked: string;
  source: string;
}

/** cspViolations are those of each context's pages, collected by newPage. */
const cspViolations = new WeakMap<BrowserContext, CSPViolation[]>();

/** violationsOf returns what the policies of context's pages have refused so far. */
export function violationsOf(context: BrowserContext): CSPViolation[] {
  return cspViolations.get(context) ?? [];
}

export async function newPage(
  browser: Browser,
  server: Server,
  viewport = DESKTOP,
  locale = 'en-US',
): Promise<{ context: BrowserContext; page: Page }> {
  const phone = viewport.width < 500;
  const context = await browser.newContext({ baseURL: server.url, viewport, isMobile: phone, hasTouch: phone, locale });
  context.setDefaultTimeout(15_000);
  // Every page of the context reports what its CSP refused (a blocked script, style,
  // connection or worker), on every load: init scripts and bindings are outside the
  // page's policy, and they survive navigations.
  const violations: CSPViolation[] = [];
  cspViolations.set(context, violations);
  await context.exposeBinding('__vscardCSPViolation', (_source, v: CSPViolation) => {
    violations.push(v);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __vscardCSPViolation: (v: unknown) => void }).__vscardCSPViolation;
      report({
        page: e.documentURI,
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`.trim(),
      });
    });
  });
  const page = await context.newPage();
  // Errors in the SPA show up in the test output, next to the failure they may explain.
  page.on('pageerror', (err) => console.error(`[browser] page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.error(`[browser] ${msg.text()}`);
  });
  return { context, page };
}

/** signIn goes through the real sign-in: the portal's button, the devidp login page, back. */
export async function signIn(page: Page, server: Server, username: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).last().click();
  await page.waitForURL(/\/dev\/idp\//);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.origin === server.url && !u.pathname.startsWith('/dev/idp') && !u.pathname.startsWith('/auth'));
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** screenshot saves a full-page PNG as artifacts/screenshots/<name>.png, after checking the page with axe. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  // Let transitions (modals fading in, steppers) settle.
  await page.waitForTimeout(350);
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
  // Every page worth a screenshot is a page a person sees: it must pass axe too. A failure
  // screenshot is taken after the test broke; the page may be half drawn, so it is left alone.
  if (!name.startsWith('failed-')) await checkAccessibility(page, name);
}

// axe-core's own build, evaluated in the page through the DevTools protocol: a script tag
// would be refused by the pages' Content-Security-Policy (and counted as a violation).
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Impacts that fail a test; minor and moderate ones are printed only. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/** describeViolation is one axe finding in a line a person can act on, with the elements it found. */
function describeViolation(v: Result): string {
  const where = v.nodes
    .slice(0, 5)
    .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
    .join('\n');
  return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${where}`;
}

/**
 * AXE_EXCLUDED are parts of pages that are not ours to fix: GraphiQL (the administrators'
 * GraphQL playground) brings its own widgets and colours; CodeMirror's scroller is reported
 * as a scroll region without keyboard access, though its contenteditable content takes the
 * focus (the e2e tests type into it). The page around them is checked.
 */
const AXE_EXCLUDED = ['.graphiql-container', '.cm-scroller'];

/** axeChecked remembers which documents were checked, so that withPage's final pass skips them. */
const axeChecked = new WeakMap<Page, Set<string>>();

/**
 * checkAccessibility runs axe-core (WCAG 2.x A and AA rules and best practices) on what the
 * page shows now and throws when it finds a serious or critical violation. screenshot() calls
 * it at every named checkpoint and withPage() on every page still open at the end of a test,
 * so each page the suite visits is checked without the tests asking for it.
 */
export async function checkAccessibility(page: Page, checkpoint: string): Promise<void> {
  if (page.isClosed()) return;
  const url = page.url();
  if (!/^https?:/.test(url)) return;
  // Wait for the page to be drawn (the SPA renders after load) so axe sees what a person does.
  await page.waitForLoadState('load').catch(() => undefined);
  // A menu or dialog still fading in or out is half transparent: axe would measure the
  // contrast of a frame no one reads. Let running transitions end first (a few hundred
  // milliseconds; a spinner's endless animation is not waited for, nor anything beyond two
  // seconds).
  await page
    .evaluate(() => {
      const finite = document.getAnimations().filter((a) => a.effect?.getComputedTiming().iterations !== Infinity);
      return Promise.race([
        Promise.all(finite.map((a) => a.finished.catch(() => undefined))),
        new Promise((done) => setTimeout(done, 2_000)),
      ]);
    })
    .catch(() => undefined);
  const hasAxe = await page.evaluate(() => 'axe' in window).catch(() => false);
  if (!hasAxe) await page.evaluate(axeSource);
  const results = (await page.evaluate((exclude) => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    return axe.run({ include: [document], exclude: exclude.map((sel) => [sel]) }, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
  }, AXE_EXCLUDED)) as AxeResults;
  (axeChecked.get(page) ?? axeChecked.set(page, new Set()).get(page))?.add(url);
  const failing = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ''));
  const other = results.violations.filter((v) => !FAILING_IMPACTS.has(v.impact ?? ''));
  if (other.length > 0) {
    console.log(`[axe] ${checkpoint} (${url}): ${other.length} minor or moderate:\n${other.map(describeViolation).join('\n')}`);
  }
  if (failing.length > 0) {
    throw new Error(`accessibility (axe) at ${checkpoint} (${url}):\n${failing.map(describeViolation).join('\n')}`);
  }
}

/**
 * gql runs a GraphQL request with the page's session cookie, for the tests' own checks of
 * what the server recorded (the SPA itself only uses its generated client).
 */
export async function gql<T>(page: Page, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await page.request.post('/query', { data: { query, variables }, headers: { 'Content-Type': 'application/json' } });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
  if (!body.data) throw new Error('GraphQL: no data');
  return body.data;
}

/**
 * withPage runs fn in a fresh browser context (its own cookies) and closes it afterwards;
 * when fn fails, the page is saved as artifacts/screenshots/failed-<name>.png first.
 */
export async function withPage(
  browser: Browser,
  server: Server,
  name: string,
  fn: (page: Page, context: BrowserContext) => Promise<void>,
  viewport = DESKTOP,
  locale = 'en-US',
): Promise<void> {
  const { context, page } = await newPage(browser, server, viewport, locale);
  try {
    await fn(page, context);
    // Pages the test left open and did not check at a screenshot are checked as they are now.
    for (const [i, p] of context.pages().entries()) {
      if (!axeChecked.get(p)?.has(p.url())) await checkAccessibility(p, `${name}, end (page ${i + 1})`);
    }
    // The app's pages run under a strict policy: whatever it refused is a bug.
    const refused = violationsOf(context);
    if (refused.length > 0) throw new Error(`the Content-Security-Policy refused:\n${refused.map((v) => JSON.stringify(v)).join('\n')}`);
  } catch (err) {
    await screenshot(page, `failed-${name}`).catch(() => undefined);
    // The reporter prints the stack, which already holds the message: extend both.
    const where = `(page: ${page.url()}; screenshot: artifacts/screenshots/failed-${name}.png)`;
    if (err instanceof Error) {
      err.stack = `${where}\n${err.stack ?? ''}`;
      err.message = `${err.message}\n${where}`;
    }
    throw err;
  } finally {
    await context.close();
  }
}
