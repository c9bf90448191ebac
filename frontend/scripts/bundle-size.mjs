#!/usr/bin/env node
// bundle-size prints the gzipped size of the JavaScript a browser loads before the app
// can render: the entry chunk and everything it imports statically (lazy chunks such as
// the admin pages are not counted). It reads the Vite manifest of a build
// (frontend/dist/.vite/manifest.json) and exits 1 when the total is over the budget.
//
//   node frontend/scripts/bundle-size.mjs [--budget-kb 250] [--json]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const args = process.argv.slice(2);
const budgetArg = args.indexOf('--budget-kb');
const budgetKB = budgetArg >= 0 ? Number(args[budgetArg + 1]) : 250;
const asJSON = args.includes('--json');

let manifest;
try {
  manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));
} catch (err) {
  console.error(`bundle-size: no Vite manifest in ${dist} (run npm run build first): ${err.message}`);
  process.exit(2);
}

const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry);
if (entries.length === 0) {
  console.error('bundle-size: the manifest names no entry chunk');
  process.exit(2);
}

// Walk the static imports; dynamicImports are loaded on demand and stay out.
const seen = new Set();
const files = [];
const visit = (key) => {
  if (seen.has(key)) return;
  seen.add(key);
  const chunk = manifest[key];
  if (!chunk) return;
  if (chunk.file.endsWith('.js')) files.push(chunk.file);
  for (const imp of chunk.imports ?? []) visit(imp);
};
for (const [key] of entries) visit(key);

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const rows = files.map((file) => ({ file, bytes: readFileSync(join(dist, file)).length, gzip: gz(file) }));
const total = rows.reduce((n, r) => n + r.gzip, 0);
const budget = budgetKB * 1024;
const kb = (n) => (n / 1024).toFixed(1);

if (asJSON) {
  console.log(JSON.stringify({ files: rows, totalGzip: total, budgetGzip: budget, ok: total <= budget }, null, 2));
} else {
  for (const r of rows) console.log(`${kb(r.gzip).padStart(8)} KiB gz  ${kb(r.bytes).padStart(8)} KiB  ${r.file}`);
  console.log(`initial JavaScript: ${kb(total)} KiB gzipped (budget ${budgetKB} KiB) ${total <= budget ? 'OK' : 'OVER BUDGET'}`);
}
process.exit(total <= budget ? 0 : 1);
