// The one place the end-to-end tests talk to the Desktop App (desktop-bridge/cmd/vscard-bridge).
// Its command line is young; when it changes, adapt openLinkInBridge and nothing else.
//
// What it relies on today:
//   vscard-bridge [globals] serve                                   the agent (hosts cards on pcscd via vpcd)
//   vscard-bridge [globals] open --trust --no-browser <vscard://…>  prints "PIN page: <url>" and returns
// globals: --data-dir, --config, --socket (all in a temporary folder here), and the vpcd
// slots through VSCARD_BRIDGE_VPCD. The agent hosts the card on a private pcscd with the
// vsmartcard vpcd driver in reversed mode (the driver connects to the bridge, which listens
// on loopback), started here the way desktop-bridge/pcsctest does it (socket activation on a
// socket of our own, PCSCLITE_CSOCK_NAME pointing at it), so a system pcscd, if any, is left
// alone. That needs root, pcscd, the driver scripts/build-vpcd.sh builds (make deps-test) and
// systemd-socket-activate.
//
// VSCARD_E2E_PCSCD=system uses the machine's pcscd instead, with its reader.conf and driver,
// and the readers VSCARD_BRIDGE_VPCD names: scripts/package-test.sh runs the installed
// packages that way (the vscard-bridge package's readers and driver).
import { spawn, type ChildProcess, type ChildProcessByStdio, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from '@playwright/test';

import { artifacts, freePort, repoRoot } from './harness.ts';

const PCSCD = '/usr/sbin/pcscd';
const VPCD_DRIVER = '/usr/local/lib/vscard/libifdvpcd.so';
const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';

const systemPcscd = process.env.VSCARD_E2E_PCSCD === 'system';
let systemSlot = 0;

/** bridgeBinary is the bridge to test with, or why the tests that need one are skipped. */
export function bridgeBinary(): { bin: string } | { skip: string } {
  const env = process.env.VSCARD_BRIDGE_BIN;
  if (!env) return { skip: 'VSCARD_BRIDGE_BIN is not set (go build -o bin/vscard-bridge ./desktop-bridge/cmd/vscard-bridge and point it there)' };
  const bin = resolve(repoRoot, env);
  if (!existsSync(bin)) return { skip: `VSCARD_BRIDGE_BIN=${env}: no such file` };
  if (systemPcscd) {
    if (!process.env.VSCARD_BRIDGE_VPCD) throw new Error('VSCARD_E2E_PCSCD=system needs VSCARD_BRIDGE_VPCD (the readers of the machine\'s reader.conf)');
    return { bin };
  }
  for (const [path, install] of [
    [PCSCD, 'apt-get install pcscd'],
    [VPCD_DRIVER, 'scripts/build-vpcd.sh'],
    [SOCKET_ACTIVATE, 'apt-get install systemd'],
  ] as const) {
    if (!existsSync(path)) return { skip: `${path} is missing (${install})` };
  }
  if (process.getuid?.() !== 0) return { skip: 'the private pcscd needs root (it writes /run/pcscd/pcscd.pid)' };
  return { bin };
}

interface Pcscd {
  socket: string;
  /** vpcd is the VSCARD_BRIDGE_VPCD value naming its two reader slots. */
  vpcd: string;
  stop: () => Promise<void>;
}

/** startPcscd runs a private pcscd with one vpcd entry (two reader slots) on free ports. */
async function startPcscd(dir: string, log: NodeJS.WritableStream): Promise<Pcscd> {
  let port = 0;
  for (let i = 0; i < 20 && port === 0; i++) {
    const p = await freePort();
    if (p < 65535 && (await portFree(p + 1))) port = p;
  }
  if (port === 0) throw new Error('no free port pair for vpcd');
  const name = `vscard e2e ${process.pid}`;
  const confDir = join(dir, 'reader.conf.d');
  mkdirSync(confDir, { recursive: true });
  writeFileSync(
    join(confDir, 'vpcd'),
    `FRIENDLYNAME "${name}"\nDEVICENAME 127.0.0.1:0x${port.toString(16).toUpperCase()}\nLIBPATH ${VPCD_DRIVER}\nCHANNELID 0x${port.toString(16).toUpperCase()}\n`,
  );
  const socket = join(dir, 'pcscd.comm');
  const child = spawn(SOCKET_ACTIVATE, ['-l', socket, PCSCD, '--foreground', '--info', '--config', confDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    log.write(b);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await waitExit(child);
    }
  };
  // socket-activate waits for the first connection before it starts pcscd; one probe
  // connection starts it. pcscd listens on no port (the driver connects to the bridge), so
  // its log tells when it is ready.
  const deadline = Date.now() + 15_000;
  await new Promise<void>((ok) => {
    const poke = () => {
      const c = connect(socket);
      c.once('connect', () => (c.destroy(), ok()));
      c.once('error', () => (Date.now() > deadline ? ok() : setTimeout(poke, 100)));
    };
    poke();
  });
  while (!out.includes('daemon ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`pcscd with vpcd did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { socket, vpcd: `127.0.0.1:${port}=${name} 00 00;127.0.0.1:${port + 1}=${name} 00 01`, stop };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.once('error', () => ok(false));
    srv.listen(port, () => srv.close(() => ok(true)));
  });
}

export interface Bridge {
  /** pinPage is the address of the bridge's page where the user types the PIN. */
  pinPage: string;
  /** cards lists the virtual cards the bridge holds (`vscard-bridge cards --json`). */
  cards: () => Promise<unknown[]>;
  /** cardDir is the folder of the bridge's card files ("<serial>.card", in --data-dir's cards/). */
  cardDir: string;
  /** env is the environment PC/SC programs need to reach the bridge's private pcscd (pkcs11-tool, opensc-tool). */
  env: NodeJS.ProcessEnv;
  /** open hands another link to the same agent (a process on a card it holds) and returns its PIN page. */
  open: (link: string) => Promise<string>;
  /** run runs another vscard-bridge command against the same agent, with input on its standard input. */
  run: (args: string[], input: string) => Promise<{ code: number | null; out: string }>;
  /** start starts another vscard-bridge command against the same agent, to talk to it as it runs. */
  start: (args: string[]) => ChildProcessWithoutNullStreams;
  stop: () => Promise<void>;
}

/**
 * started resolves once the agent says it runs (its control socket is bound by then). A
 * `vscard-bridge open` before that finds no agent answering and starts one of its own,
 * detached, which would outlive the test (and which the socket's lock turns away).
 */
function started(agent: ChildProcessByStdio<null, Readable, Readable>): Promise<void> {
  return new Promise((ok, fail) => {
    let seen = '';
    const onData = (b: Buffer) => {
      seen = (seen + b.toString()).slice(-4096);
      if (seen.includes('vscard bridge agent running')) done(ok);
    };
    const onExit = (code: number | null) => done(() => fail(new Error(`the bridge agent exited (${String(code)}) before it ran`)));
    const timer = setTimeout(() => done(() => fail(new Error('the bridge agent did not start within 60 s'))), 60_000);
    const done = (then: () => void) => {
      clearTimeout(timer);
      agent.stdout.off('data', onData);
      agent.stderr.off('data', onData);
      agent.off('exit', onExit);
      then();
    };
    agent.stdout.on('data', onData);
    agent.stderr.on('data', onData);
    agent.once('exit', onExit);
  });
}

function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    if (child.exitCode !== null) ok(child.exitCode);
    else child.once('exit', (code) => ok(code));
  });
}

/** BridgeOptions are how a test's Desktop App differs from a default installation's. */
export interface BridgeOptions {
  /**
   * tpmDevice makes the bridge keep its cards' keys in a TPM (--tpm), the one at this path:
   * a device, or swtpm's command socket (swtpm.ts).
   */
  tpmDevice?: string;
}

/** bridgeLogs counts the bridges each test file started, for their logs' names. */
let bridgeLogs = 0;

/**
 * bridgeLogName names the log of the next bridge after the test file that starts it
 * (bridge-fullflow-tpm-1.log), so that a failed test's bridge log is not overwritten by the
 * next test's.
 */
function bridgeLogName(): string {
  let file = 'e2e';
  try {
    file = basename(test.info().file).replace(/\.test\.ts$/, '');
  } catch {
    // outside a test (a setup script): the counter alone names it
  }
  return `bridge-${file}-${++bridgeLogs}.log`;
}

/**
 * openLinkInBridge does what clicking Open Desktop App does on a desktop: it hands the
 * vscard:// link to the bridge, trusting the link's server. It starts the bridge's agent
 * in a temporary home first (so no user setup is touched) and returns the PIN page.
 */
export async function openLinkInBridge(bin: string, link: string, opts: BridgeOptions = {}): Promise<Bridge> {
  const home = mkdtempSync(join(tmpdir(), 'vscard-e2e-bridge-'));
  mkdirSync(join(artifacts, 'logs'), { recursive: true });
  const log = createWriteStream(join(artifacts, 'logs', bridgeLogName()));
  const env = {
    ...process.env,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    DISPLAY: '',
    WAYLAND_DISPLAY: '',
  };
  for (const d of [env.XDG_DATA_HOME, env.XDG_CONFIG_HOME, env.XDG_STATE_HOME, env.XDG_RUNTIME_DIR]) mkdirSync(d, { recursive: true, mode: 0o700 });
  let pcscd: Pick<Pcscd, 'stop'> = { stop: async () => undefined };
  if (systemPcscd) {
    // The machine's readers are shared by every bridge a test file opens (each private
    // pcscd has its own): each bridge gets a reader of its own, in turn.
    const slots = (process.env.VSCARD_BRIDGE_VPCD ?? '').split(';').filter(Boolean);
    Object.assign(env, { VSCARD_BRIDGE_VPCD: slots[systemSlot++ % slots.length] });
  } else {
    const own = await startPcscd(home, log);
    Object.assign(env, { PCSCLITE_CSOCK_NAME: own.socket, VSCARD_BRIDGE_VPCD: own.vpcd });
    pcscd = own;
  }
  const globals = [
    `--data-dir=${join(home, 'cards')}`,
    `--config=${join(home, 'config', 'bridge.yaml')}`,
    `--socket=${join(home, 'run', 'bridge.sock')}`,
    '--log-level=debug',
    ...(opts.tpmDevice ? ['--tpm', `--tpm-device=${opts.tpmDevice}`] : []),
  ];

  const agent = spawn(bin, [...globals, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout.pipe(log, { end: false });
  agent.stderr.pipe(log, { end: false });
  const stop = async () => {
    if (agent.exitCode === null) {
      agent.kill('SIGTERM');
      const timer = setTimeout(() => agent.kill('SIGKILL'), 5000);
      await waitExit(agent);
      clearTimeout(timer);
    }
    await pcscd.stop();
    log.end();
    rmSync(home, { recursive: true, force: true });
  };

  const openLink = async (link: string): Promise<string> => {
    const open = spawn(bin, [...globals, 'open', '--trust', '--no-browser', link], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    open.stdout.on('data', (b: Buffer) => (out += b.toString()));
    open.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await Promise.race([
      waitExit(open),
      new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), 30_000)),
    ]);
    log.write(`--- vscard-bridge open (exit ${String(code)}):\n${out}\n`);
    if (code === 'timeout') open.kill('SIGKILL');
    const pinPage = /PIN page: (\S+)/.exec(out)?.[1];
    if (!pinPage) throw new Error(`vscard-bridge open did not name a PIN page (exit ${String(code)}):\n${out}`);
    return pinPage;
  };

  try {
    await started(agent);
    const pinPage = await openLink(link);
    const cards = async (): Promise<unknown[]> => {
      const list = spawn(bin, [...globals, 'cards', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let json = '';
      list.stdout.on('data', (b: Buffer) => (json += b.toString()));
      const exit = await waitExit(list);
      if (exit !== 0) throw new Error(`vscard-bridge cards exited ${String(exit)}`);
      const parsed: unknown = JSON.parse(json || '[]');
      return Array.isArray(parsed) ? parsed : [];
    };
    const run = async (args: string[], input: string) => {
      const cmd = spawn(bin, [...globals, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      cmd.stdout.on('data', (b: Buffer) => (out += b.toString()));
      cmd.stderr.on('data', (b: Buffer) => (out += b.toString()));
      cmd.stdin.end(input);
      const code = await waitExit(cmd);
      log.write(`--- vscard-bridge ${args.join(' ')} (exit ${String(code)}):\n${out}\n`);
      return { code, out };
    };
    const start = (args: string[]) => spawn(bin, [...globals, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    return { pinPage, cards, cardDir: join(home, 'cards', 'cards'), env, open: openLink, run, start, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
