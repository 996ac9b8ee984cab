#!/usr/bin/env node
// Builds everything `omoi` runs from: the TypeScript sources into dist/, the web UI into
// web/dist/ (when it exists), then any extra step registered in scripts/build-steps/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsc'), ['-p', 'tsconfig.build.json']);

// Extra build steps (web bundle, travelling worker bundle, …) live beside this file, one module each,
// run in name order. Each exports `default async function (root)`.
const stepsDir = join(root, 'scripts', 'build-steps');
if (existsSync(stepsDir)) {
  for (const file of readdirSync(stepsDir)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    const step = await import(join(stepsDir, file));
    await step.default(root);
  }
}

mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), `${new Date().toISOString()}\n`);
