// Build step: the CLI as one ES module (dist/cli-bundle/main.js), so a cold `omoi` resolves and
// compiles one file instead of walking ~130 modules of dist/. Commands still import their heavy
// parts lazily: each dynamic import becomes a chunk beside main.js, loaded only when its command
// runs. Packages stay in node_modules (PGlite finds its wasm beside itself; the agent SDKs are big).
// Everything sits two folders below the package root, like dist/<area>/*.js, so paths built from
// import.meta.url (skills, web/dist, bin/omoi.js, package.json) resolve the same; the migrations
// are copied beside it (src/db/migrate.ts looks in ./migrations first).
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Dependencies bundled, with what they import that is not a dependency of ours (zod-to-openapi,
 * openapi3-ts): each is loaded by every `omoi start`.
 */
const BUNDLED = new Set(['hono', '@hono/node-server', '@hono/zod-openapi', 'yaml', 'commander']);

/** Every dependency of the package that stays in node_modules, and zod (see below). */
function externalPackages(root) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    'zod',
  ]);
  const external = [...names].filter((name) => !BUNDLED.has(name));
  // a package's subpaths (zod/v4, @electric-sql/pglite/vector, …) too
  return external.flatMap((name) => [name, `${name}/*`]);
}

export default async function buildCliBundle(root) {
  const { build } = await import('esbuild');
  const outdir = join(root, 'dist', 'cli-bundle');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    // Small pure-JS packages the server loads at every start go into the bundle (resolving and
    // compiling their ~200 files cost `omoi start` ~70 ms); everything else stays in node_modules:
    // zod (the MCP and agent SDKs take our schemas and must see the same copy), PGlite (its wasm
    // beside itself), pg, the agent and sandbox SDKs and the forge clients (big, loaded lazily).
    external: [...externalPackages(root)],
    banner: {
      // bundled CommonJS code that calls require() (e.g. zod-to-openapi) gets a real one
      js: "import { createRequire as __omoiCreateRequire } from 'node:module'; const require = __omoiCreateRequire(import.meta.url);",
    },
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
