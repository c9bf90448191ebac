// Renewal tasks: alice's card falls due when the server's clock moves on (--test-clock, an
// end-to-end-only flag the server refuses in production) to 14 days before it expires; the
// expiry check runs, her start page says "Your card … expires in 14 days", with Renew where
// the server runs renew-virtual-smart-card, and the notice reaches a real SMTP server on
// loopback (STARTTLS, AUTH PLAIN). The card is made through the server's own
// Desktop App calls (as cardlock.test.ts does), so this file needs no pcscd.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { test, type Browser } from '@playwright/test';

import { gql, repoRoot, screenshot, signIn, startServer, withPage, type Server } from './harness.ts';
import { activeCard } from './desktopcalls.ts';

let server: Server | undefined;
let browser: Browser | undefined;
let sink: ChildProcess | undefined;
let mailbox = '';

interface Sink {
  host: string;
  port: number;
  caFile: string;
  http: string;
  username: string;
  password: string;
}

/** startSink runs a real SMTP server on loopback (STARTTLS, AUTH PLAIN; Go's smtptest) and returns where it is. */
async function startSink(): Promise<Sink> {
  const child = spawn('go', ['run', './server/notices/smtptest/cmd/vscard-smtp-sink'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  sink = child;
  return await new Promise<Sink>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) ok(JSON.parse(line) as Sink);
    });
    child.once('exit', (code) => fail(new Error(`vscard-smtp-sink exited with ${code}`)));
  });
}

test.beforeAll(async ({ browser: b }) => {
  const smtp = await startSink();
  mailbox = `${smtp.http}/mails`;
  server = await startServer('notices', {
    VSCARD_SMTP_HOST: smtp.host,
    VSCARD_SMTP_PORT: String(smtp.port),
    VSCARD_SMTP_USERNAME: smtp.username,
    VSCARD_SMTP_PASSWORD: smtp.password,
    VSCARD_SMTP_FROM: 'vscard <vscard@example.com>',
    VSCARD_SMTP_CA_FILE: smtp.caFile,
    VSCARD_TEST_CLOCK: 'true',
    // The session outlives the clock's move: the development identity provider signs in on
    // the real clock, so a sign-in after the move would be refused as not yet valid.
    VSCARD_SESSION_IDLE_TIMEOUT: '20000h',
    VSCARD_SESSION_LIFETIME: '20000h',
  });
  browser = b;
});

test.afterAll(async () => {
  await server?.stop();
  sink?.stdin?.end();
});


/** advanceClock moves the server's clock and runs the expiry check (POST /test/clock). */
async function advanceClock(srv: Server, hours: number): Promise<void> {
  const res = await fetch(`${srv.url}/test/clock?advance=${hours}h`, {
    method: 'POST',
  });
  assert.equal(res.status, 200, `moving the clock: ${await res.text()}`);
}

interface Tasks {
  tasks: {
    daysLeft: number;
    card: { serial: string };
    process: { name: string } | null;
  }[];
}

test('a card 14 days from expiry shows as a task on the start page', async () => {
  if (!server || !browser) return;
  const srv = server;
  await withPage(browser, srv, 'notices-alice', async (page) => {
    await signIn(page, srv, 'alice', 'alice-demo');
    const serial = await activeCard(page, srv);
    const { card } = await gql<{ card: { validUntil: string } }>(page, 'query($s: String!) { card(serial: $s) { validUntil } }', {
      s: serial,
    });

    // Not due yet: no task on the start page.
    await advanceClock(srv, 1);
    await page.goto('/');
    await page.getByRole('heading', { name: /Welcome/ }).waitFor();
    assert.equal(await page.getByTestId('task').count(), 0, 'a card two years from expiry is no task');

    // Move to 14 and a half days before the card expires: due, and 14 whole days left.
    const hoursLeft = (Date.parse(card.validUntil) - Date.now()) / 3_600_000;
    await advanceClock(srv, Math.floor(hoursLeft - 14.5 * 24));
    await page.reload();
    const task = page.getByTestId('task');
    await task.getByText(`Your card ${serial} expires in 14 days`).waitFor();

    // Renew is offered where the server runs renew-virtual-smart-card, and hidden where not.
    const got = await gql<Tasks>(page, '{ tasks { daysLeft card { serial } process { name } } }');
    const [only] = got.tasks;
    assert.ok(only && got.tasks.length === 1, `tasks: ${JSON.stringify(got.tasks)}`);
    assert.equal(only.daysLeft, 14);
    const renew = task.getByRole('button', { name: `Renew card ${serial}` });
    if (only.process) {
      assert.equal(only.process.name, 'renew-virtual-smart-card');
      await renew.waitFor();
    } else {
      assert.equal(await renew.count(), 0, 'Renew shown without the renewal process');
    }
    await screenshot(page, '70-renewal-task');

    // The 14-day notice went through the real SMTP server, over STARTTLS with AUTH, once
    // (the check's notice is sent in the same run the clock move triggered).
    const mails = (await (await fetch(mailbox)).json()) as { to: string[]; data: string; tls: boolean; authenticated: boolean }[];
    assert.equal(mails.length, 1, `mails: ${JSON.stringify(mails.map((m) => m.to))}`);
    const [mail] = mails;
    assert.ok(mail && mail.tls && mail.authenticated, 'the notice went without STARTTLS or AUTH');
    assert.match(mail.data, new RegExp(`Subject: Your virtual smart card ${serial} expires in 14 days`));
  });
});
