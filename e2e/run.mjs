#!/usr/bin/env node
// Runs the end-to-end tests (e2e/*.test.ts) with node's test runner, TypeScript through
// tsx, one file at a time (each starts its own server and browser; the machine is small).
// Prints node's spec report and, last, one summary line; exits non-zero on any failure.
//
//   npm run e2e                       all tests
//   npm run e2e -- e2e/admin.test.ts  some files
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(here)
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => relative(root, join(here, f)));

const res = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(here, 'summary-reporter.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(res.status ?? 1);
