// Build step: the CLI as one ES module (dist/cli-bundle/main.js), so a cold `omoi` resolves and
// compiles one file instead of walking ~130 modules of dist/. Commands still import their heavy
// parts lazily: each dynamic import becomes a chunk beside main.js, loaded only when its command
// runs. Packages stay in node_modules (PGlite finds its wasm beside itself; the agent SDKs are big).
// Everything sits two folders below the package root, like dist/<area>/*.js, so paths built from
// import.meta.url (skills, web/dist, bin/omoi.js, package.json) resolve the same; the migrations
// are copied beside it (src/db/migrate.ts looks in ./migrations first).
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export default async function buildCliBundle(root) {
  const { build } = await import('esbuild');
  const outdir = join(root, 'dist', 'cli-bundle');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'none',
  });
  const migrations = join(outdir, 'migrations');
  mkdirSync(migrations, { recursive: true });
  cpSync(join(root, 'src', 'db', 'migrations'), migrations, {
    recursive: true,
    filter: (p) => !p.endsWith('.ts'),
  });
  console.log('cli bundle: dist/cli-bundle/main.js');
}
