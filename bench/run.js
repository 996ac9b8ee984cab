#!/usr/bin/env node
// `npm run bench [-- name …]`: runs bench/<name>.bench.js (all of them without a name), in order.
// Each benchmark builds its own baseline in the same run and prints ratios, never absolute limits.
// Benchmarks import the compiled code from dist/, so this builds first when sources changed.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
execFileSync(process.execPath, [join(here, '..', 'scripts', 'ensure-built.js')], { stdio: 'inherit' });

const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.slice(0, -'.bench.js'.length))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark: ${unknown.join(', ')}\nusage: npm run bench -- [${all.join('|')}] …\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : all) {
  process.stdout.write(`\n== bench ${name}\n`);
  const mod = await import(join(here, `${name}.bench.js`));
  await mod.default();
}
