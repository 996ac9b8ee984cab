#!/usr/bin/env node
// The `omoi` command. `npm run build` compiles the CLI to dist/ and bundles it into one module,
// dist/cli-bundle/main.js (a cold start resolves one file, not the module graph); the compiled
// modules are the fallback when the bundle is absent. Node's compile cache, where Node has it
// (22.1+), keeps the compiled code between runs.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

module.enableCompileCache?.();
const candidates = ['../dist/cli-bundle/main.js', '../dist/cli/main.js'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);
const main = candidates.find((p) => existsSync(p));
if (!main) {
  process.stderr.write('omoi: not built yet. Run `npm run build` in the omoi folder first.\n');
  process.exit(1);
}
await import(main);
