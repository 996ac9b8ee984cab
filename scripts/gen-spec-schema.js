#!/usr/bin/env node
// Writes docs/schema/<kind>.schema.json from the zod schemas of src/spec-format/schema.ts (compiled to
// dist/ by `npm run build`). Run it after changing the format; a test fails while the files differ.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { specJsonSchemas } = await import(join(root, 'dist', 'spec-format', 'schema.js'));
const dir = join(root, 'docs', 'schema');
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(specJsonSchemas())) {
  writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote docs/schema/${name}\n`);
}
