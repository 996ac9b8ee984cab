#!/usr/bin/env node
// The `omoi` command. The CLI is compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('omoi: not built yet. Run `npm run build` in the omoi folder first.\n');
  process.exit(1);
}
await import(main);
