// A private software TPM 2.0 (Debian's swtpm) for the end-to-end tests whose cards keep
// their keys in a TPM, started by the test that needs it, the way the Go tests do
// (desktop-bridge/internal/tpmtest): swtpm_setup manufactures a fresh TPM with endorsement
// key certificates, and swtpm serves its command channel on a Unix socket, which
// vscard-bridge --tpm-device dials.
//
// Unlike tpmtest, the EK certificates come from a certificate authority of the test's own
// (swtpm_localca with a configuration in the test's folder), not from the machine-wide
// /var/lib/swtpm-localca: the server trusts exactly this TPM's maker (rootsFile, for
// --tpm-roots / VSCARD_TPM_ROOTS) and nothing on the machine is created or changed.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { artifacts } from './harness.ts';

const SWTPM = '/usr/bin/swtpm';
const SWTPM_SETUP = '/usr/bin/swtpm_setup';
const SWTPM_LOCALCA = '/usr/bin/swtpm_localca';

/** swtpmMissing says why no swtpm can be started here, or false when one can. */
export function swtpmMissing(): string | false {
  for (const path of [SWTPM, SWTPM_SETUP, SWTPM_LOCALCA]) {
    if (!existsSync(path)) return `${path} is missing (apt-get install swtpm swtpm-tools; make deps-test installs them)`;
  }
  return false;
}

export interface SoftwareTPM {
  /** socket is swtpm's command channel: vscard-bridge --tpm-device takes it. */
  socket: string;
  /** rootsFile holds the PEM certificates of the TPM's maker (root and EK issuer), for --tpm-roots. */
  rootsFile: string;
  stop: () => Promise<void>;
}

/**
 * startSwtpm manufactures a TPM in a temporary folder, with EK certificates (RSA and ECC)
 * from a local CA in the same folder, and runs swtpm on it until stop, which also removes
 * the folder. swtpm's output goes to artifacts/logs/<name>-swtpm.log.
 */
export async function startSwtpm(name: string): Promise<SoftwareTPM> {
  const missing = swtpmMissing();
  if (missing) throw new Error(missing);
  // No comma may appear in the path: swtpm's options are comma-separated lists.
  const dir = mkdtempSync(join(tmpdir(), 'vscard-e2e-swtpm-'));
  const ca = join(dir, 'ca');
  const state = join(dir, 'state');
  mkdirSync(ca, { mode: 0o700 });
  mkdirSync(state, { mode: 0o700 });
  mkdirSync(join(artifacts, 'logs'), { recursive: true });
  const logFile = join(artifacts, 'logs', `${name}-swtpm.log`);
  const log = createWriteStream(logFile);
  let child: ReturnType<typeof spawn> | undefined;
  // Should the test runner be stopped before afterAll, the TPM goes with it.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((ok) => child?.once('exit', () => ok()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // swtpm_localca makes the CA (a root and the issuer of EK certificates) on first use.
    const caConf = join(dir, 'swtpm-localca.conf');
    writeFileSync(
      caConf,
      [`statedir = ${ca}`, `signingkey = ${join(ca, 'signkey.pem')}`, `issuercert = ${join(ca, 'issuercert.pem')}`, `certserial = ${join(ca, 'certserial')}`, ''].join('\n'),
    );
    const setupConf = join(dir, 'swtpm_setup.conf');
    writeFileSync(
      setupConf,
      [`create_certs_tool = ${SWTPM_LOCALCA}`, `create_certs_tool_config = ${caConf}`, 'active_pcr_banks = sha256', ''].join('\n'),
    );
    const setup = spawnSync(
      SWTPM_SETUP,
      ['--tpm2', '--tpmstate', state, '--create-ek-cert', '--overwrite', '--config', setupConf],
      { encoding: 'utf8', timeout: 120_000 },
    );
    log.write(`--- swtpm_setup (exit ${String(setup.status)}):\n${setup.stdout}${setup.stderr}\n`);
    if (setup.status !== 0) throw new Error(`swtpm_setup could not manufacture a TPM (exit ${String(setup.status)}); see ${logFile}`);
    const rootsFile = join(dir, 'tpm-roots.pem');
    writeFileSync(rootsFile, readFileSync(join(ca, 'swtpm-localca-rootca-cert.pem'), 'utf8') + readFileSync(join(ca, 'issuercert.pem'), 'utf8'));

    const socket = join(dir, 'tpm.sock');
    const proc = spawn(
      SWTPM,
      [
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${state}`,
        '--server',
        `type=unixio,path=${socket}`,
        '--ctrl',
        `type=unixio,path=${join(dir, 'ctrl.sock')}`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout.pipe(log, { end: false });
    proc.stderr.pipe(log, { end: false });
    // The socket file exists from bind, before listen: a connection (which swtpm serves and
    // forgets) tells when it takes commands.
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`swtpm exited with ${proc.exitCode}; see ${logFile}`);
      const up = await new Promise<boolean>((ok) => {
        const c = connect(socket);
        c.once('connect', () => (c.destroy(), ok(true)));
        c.once('error', () => ok(false));
      });
      if (up) break;
      if (Date.now() > deadline) throw new Error(`swtpm did not listen on ${socket} within 15 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { socket, rootsFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
