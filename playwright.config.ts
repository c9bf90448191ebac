// @playwright/test configuration for the end-to-end tests (e2e/*.test.ts). The browser is
// Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium): Playwright never downloads
// one (no package here has an install script, and nothing runs `playwright install`).
// It builds nothing: `make e2e` builds the SPA, the server and the bridge first. Each test
// file starts its own vscard-server (e2e/harness.ts); files run one at a time, as the
// machine is small.
import { existsSync } from 'node:fs';

import { defineConfig } from '@playwright/test';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  throw new Error(`Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`);
}

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.test.ts',
  outputDir: 'artifacts/test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // The full flow waits up to two minutes for the Desktop App in single steps.
  timeout: 5 * 60_000,
  // The list of tests as they run, then one closing line: "e2e: N passed, N failed, N skipped".
  reporter: [['list'], ['./e2e/summary-reporter.ts']],
  use: {
    browserName: 'chromium',
    // The tests look for English words: the SPA follows the browser's language.
    locale: 'en-US',
    launchOptions: {
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    },
  },
});
