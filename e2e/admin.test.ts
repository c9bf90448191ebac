// Administration: the option-script editor (validate with an error, save a change, revert),
// the users, orders and audit-log pages, and the GraphQL playground.
import assert from 'node:assert/strict';
import { test, type Browser, type Page } from '@playwright/test';

import { gql, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';

let server: Server;
let browser: Browser;

// One server per file, in a fresh data folder; the browser is Playwright's, launched as
// playwright.config.ts says (Debian's Chromium).
test.beforeAll(async ({ browser: b }) => {
  server = await startServer('admin');
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
});

interface ScriptData {
  optionScript: { current: { version: number; source: string }; versions: { version: number; comment: string }[] };
}

async function currentScript(page: Page): Promise<ScriptData['optionScript']> {
  const data = await gql<ScriptData>(page, '{ optionScript { current { version source } versions { version comment } } }');
  return data.optionScript;
}

/** setEditorText replaces the CodeMirror document as a user would: select all, type. */
async function setEditorText(page: Page, text: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: 'Option script source' });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText types the whole text at once, without the editor's auto-indentation.
  await page.keyboard.insertText(text);
}

test('admin validates a broken script, saves PIN min length 8, and reverts', async () => {
  await withPage(browser, server, 'admin-script', async (page) => {
    await signIn(page, server, 'admin', 'admin-demo');
    // alice signs in once so that the script can be validated for her.
    await withPage(browser, server, 'alice-sign-in', (alice) => signIn(alice, server, 'alice', 'alice-demo'));

    await page.getByRole('link', { name: 'Option script' }).click();
    await page.getByRole('heading', { name: 'Option script', level: 1 }).waitFor();
    const original = await currentScript(page);
    assert.equal(original.current.version, 1);
    assert.match(original.current.source, /^PIN_MIN_LENGTH = 6$/m);

    // A syntax error on line 3: the problem names the line, and the editor marks it.
    await setEditorText(page, 'PIN_MIN_LENGTH = 6\n\ndef options(user, env:\n    return {}\n');
    await page.getByRole('button', { name: 'Validate' }).click();
    const problems = page.getByTestId('script-problems');
    await problems.waitFor();
    assert.match((await problems.textContent()) ?? '', /Line 3, column \d+/);
    await page.locator('.cm-lintRange-error').first().waitFor();
    await page.locator('.cm-lint-marker-error').first().waitFor();
    await screenshot(page, '10-admin-script-error');

    // Saving the broken script is refused the same way.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Not saved: the script has problems').waitFor();
    assert.equal((await currentScript(page)).current.version, 1);

    // Raise the PIN minimum to 8, validate for alice, save with a comment.
    await setEditorText(page, original.current.source.replace(/^PIN_MIN_LENGTH = 6$/m, 'PIN_MIN_LENGTH = 8'));
    await page.getByRole('combobox', { name: 'Validate for user' }).click();
    await page.getByRole('option', { name: /Alice Active/ }).click();
    await page.getByRole('button', { name: 'Validate' }).click();
    const evaluated = page.getByTestId('evaluated-options');
    await evaluated.waitFor();
    await evaluated.getByRole('cell', { name: '8 to 8' }).waitFor();
    await evaluated.getByText('Options for Alice Active').waitFor();
    await screenshot(page, '11-admin-script-validated');

    await page.getByLabel('Comment').fill('PIN min length 8');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('script-saved').getByText('Saved as version 2').waitFor();
    const history = page.getByTestId('script-versions');
    await history.getByTestId('script-version-2').getByText('PIN min length 8').waitFor();
    const saved = await currentScript(page);
    assert.equal(saved.current.version, 2);
    assert.match(saved.current.source, /^PIN_MIN_LENGTH = 8$/m);
    await screenshot(page, '12-admin-script-saved');

    // Revert to version 1: saved again as version 3.
    await history.getByRole('button', { name: 'Revert to version 1' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revert to version 1?' });
    await confirm.getByRole('button', { name: 'Revert', exact: true }).click();
    await page.getByTestId('script-saved').getByText('Saved as version 3').waitFor();
    await history.getByTestId('script-version-3').waitFor();
    const reverted = await currentScript(page);
    assert.equal(reverted.current.version, 3);
    assert.equal(reverted.current.source, original.current.source);
    assert.deepEqual(
      reverted.versions.map((v) => v.version).sort(),
      [1, 2, 3],
    );
    await screenshot(page, '13-admin-script-reverted');
  });
});

test('admin sees users, orders and the audit log; a user does not see administration', async () => {
  await withPage(browser, server, 'admin-pages', async (page) => {
    await signIn(page, server, 'admin', 'admin-demo');
    await page.getByRole('link', { name: 'Users' }).click();
    const alice = page.getByTestId('user-alice');
    await alice.waitFor();
    await screenshot(page, '14-admin-users');

    // Lock alice, then make her active again.
    const stateOf = () => gql<{ users: { edges: { node: { state: string } }[] } }>(page, '{ users(where: { username: "alice" }) { edges { node { state } } } }');
    await alice.getByRole('combobox', { name: 'State of alice' }).click();
    await page.getByRole('option', { name: 'Locked', exact: true }).click();
    // Nothing happens before the administrator has read the consequence and said why.
    const dialog = page.getByRole('dialog', { name: 'Change the state of alice' });
    await dialog.getByText(/alice is signed out and cannot order/).waitFor();
    assert.equal((await stateOf()).users.edges[0]?.node.state, 'ACTIVE');
    await dialog.getByLabel('Reason').fill('on leave');
    await dialog.getByRole('button', { name: 'Change state' }).click();
    await page.getByText('alice is now locked and signed out everywhere.').waitFor();
    assert.equal((await stateOf()).users.edges[0]?.node.state, 'LOCKED');
    await alice.getByRole('combobox', { name: 'State of alice' }).click();
    await page.getByRole('option', { name: 'Active', exact: true }).click();
    await dialog.getByLabel('Reason').fill('back from leave');
    await dialog.getByRole('button', { name: 'Change state' }).click();
    await page.getByText('alice is now active.').waitFor();
    assert.equal((await stateOf()).users.edges[0]?.node.state, 'ACTIVE');

    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Orders' }).waitFor();

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.getByTestId('audit-row').first().waitFor();
    // Sentences with names, not codes or ids; the claim is alice's Desktop App, not "anonymous".
    const sentences = await page.getByTestId('audit-sentence').allTextContents();
    assert.ok(sentences.some((t) => / signed in$/.test(t)), `a sign-in: ${sentences.join(' | ')}`);
    assert.ok(sentences.every((t) => !/usr_|ord_|anonymous|\b[a-z]+\.[a-z_]+\b/.test(t)), `no ids or codes: ${sentences.join(' | ')}`);
    const all = await page.getByTestId('audit-row').count();
    await page.getByLabel('Person').fill('alice');
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="audit-row"]').length !== n,
      all,
    );
    const alices = await page.getByTestId('audit-sentence').allTextContents();
    assert.ok(alices.length > 0 && alices.every((t) => t.includes('Alice')), `only alice's events: ${alices.join(' | ')}`);
    // The export downloads what is shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
    const csv = await download.createReadStream().then(async (s) => {
      let text = '';
      for await (const chunk of s) text += chunk;
      return text;
    });
    const lines = csv.trim().split('\n');
    assert.ok(lines[0]?.startsWith('time,actor,actor_name'), `CSV header: ${lines[0]}`);
    assert.ok(lines.length - 1 >= alices.length, `CSV rows ${lines.length - 1}, page rows ${alices.length}`);
    await screenshot(page, '15-admin-audit-log');

    assert.equal(await page.getByRole('link', { name: 'GraphQL playground' }).getAttribute('href'), '/playground');
  });

  await withPage(browser, server, 'carol-no-admin', async (page) => {
    await signIn(page, server, 'carol', 'carol-demo');
    assert.equal(await page.getByRole('link', { name: 'Option script' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'GraphQL playground' }).count(), 0);
    await page.goto('/admin/script');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    // Loaded directly, the server refuses the playground; reached inside the app, the
    // router does.
    const direct = await page.goto('/playground');
    assert.equal(direct?.status(), 403);
    await page.goto('/');
    await page.evaluate(() => {
      history.pushState(null, '', '/playground');
      dispatchEvent(new PopStateEvent('popstate'));
    });
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });
});

/** responseText is what GraphiQL's response editor shows, with Monaco's spacing undone. */
async function responseText(page: Page): Promise<string> {
  const text = await page.locator('.graphiql-response .view-lines').textContent();
  return (text ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ');
}

test('the GraphQL playground is built in: it loads and runs a query with no network but the server', async () => {
  await withPage(browser, server, 'playground', async (page, context) => {
    // Anything not from the server fails, as offline or behind a strict proxy, and is
    // remembered: the playground must not try.
    const elsewhere: string[] = [];
    await context.route(
      (url) => url.origin !== server.url,
      (route) => {
        elsewhere.push(route.request().url());
        return route.abort('internetdisconnected');
      },
    );
    const index = await page.request.get('/');
    const scripts = (await index.text()).match(/<script\b[^>]*>/g) ?? [];
    assert.ok(scripts.length > 0 && scripts.every((tag) => /\bsrc=/.test(tag)), `index.html has inline script: ${scripts.join(' ')}`);

    await signIn(page, server, 'admin', 'admin-demo');
    // Inside the app: the router loads the playground's chunk.
    await page.getByRole('link', { name: 'GraphQL playground' }).click();
    await page.getByRole('heading', { name: 'GraphQL playground', level: 1 }).waitFor({ state: 'attached' });
    const query = page.locator('.graphiql-query-editor .monaco-editor').first();
    await query.waitFor();
    await query.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // insertText types it at once, so the editor closes no brackets of its own.
    await page.keyboard.insertText('{ me { username } }');
    await page.getByRole('button', { name: /Execute query/ }).click();
    await page.waitForFunction(() => document.querySelector('.graphiql-response .view-lines')?.textContent?.includes('admin'));
    const answer = await responseText(page);
    assert.match(answer, /"username": "admin"/, answer);
    // Prettify loads prettier's chunks: same origin, no eval.
    await page.getByRole('button', { name: /Prettify query/ }).click();
    await page.waitForFunction(() => (document.querySelector('.graphiql-query-editor .view-lines')?.childElementCount ?? 0) > 1);
    await screenshot(page, '16-admin-playground');

    // Loaded directly, from the server's /playground; the schema too (introspection is open
    // to administrators), for the documentation and completion.
    await page.goto('/playground');
    await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor();
    // GraphiQL remembers whether the documentation was open.
    const docs = page.locator('.graphiql-doc-explorer');
    if (!(await docs.isVisible())) await page.getByRole('button', { name: /Show Documentation Explorer/ }).click();
    await docs.getByText('Root Types').waitFor();
    await docs.getByText('Query', { exact: true }).first().waitFor();

    // connect-src 'self' lets the page open its own WebSocket (ws: on http, as CSP3 says and
    // Chromium does), which the playground's subscriptions and the wizard use.
    const socket = await page.evaluate(
      () =>
        new Promise<string>((ok) => {
          const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/query`, 'graphql-transport-ws');
          ws.onopen = () => {
            ws.close();
            ok('open');
          };
          ws.onerror = () => ok('error');
        }),
    );
    assert.equal(socket, 'open');

    assert.deepEqual(elsewhere, [], 'requests beyond the server');
  });
});
