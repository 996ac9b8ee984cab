// Copies the SQL migrations beside the compiled database code (dist/db/migrations), since tsc copies
// only TypeScript. src/db/migrate.ts looks there first, then in src/db/migrations.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export default async function (root) {
  const to = join(root, 'dist', 'db', 'migrations');
  mkdirSync(to, { recursive: true });
  cpSync(join(root, 'src', 'db', 'migrations'), to, { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
