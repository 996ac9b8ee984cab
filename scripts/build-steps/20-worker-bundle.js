// Build step: the travelling worker. Bundles `omoi worker` and everything it imports into one
// self-contained ES module, dist/worker.bundle.mjs, so a remote provider (Daytona, E2B) can upload
// it into a bare sandbox that has only Node 20 and git, and the Docker image needs no npm install.
// The Claude Agent SDK stays external: it ships its own CLI and native pieces, so it is installed
// in the image or sandbox (`npm install -g @anthropic-ai/claude-agent-sdk`, see deploy/Dockerfile).
//
// In a sandbox the bundle sits at <workdir>/dist/worker/worker.bundle.mjs with the skills at
// <workdir>/src/skills/, the same layout as this package, so the worker finds its skills the way it
// does here (src/sandbox/worker-files.ts does the upload).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Packages the bundle leaves to the sandbox image. */
export const EXTERNAL = ['@anthropic-ai/claude-agent-sdk'];

/**
 * The bundle's entry: a dedicated worker entry when the worker has one, else the `omoi worker`
 * command module behind a one-command commander program (so `node worker.bundle.mjs worker` reads
 * the same arguments as `omoi worker`).
 */
function entry(root) {
  const main = join(root, 'src', 'worker', 'main.ts');
  if (existsSync(main)) return { entryPoints: [main] };
  const command = join(root, 'src', 'cli', 'commands', 'worker.ts');
  if (!existsSync(command)) return null;
  return {
    stdin: {
      contents: [
        "import { Command } from 'commander';",
        "import { register } from './src/cli/commands/worker.ts';",
        "const program = new Command('omoi');",
        'register(program);',
        'await program.parseAsync(process.argv);',
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'worker-entry.ts',
      loader: 'ts',
    },
  };
}

/**
 * Keeps the external packages lazy. esbuild hoists an external import to the top of the bundle,
 * where it would fail at start-up in a sandbox without the Claude Agent SDK even when the run uses
 * `offline` or `openai`. Each external is replaced by a small module that imports it with a
 * top-level await, which esbuild runs only when the runtime that needs it is loaded.
 */
function lazyExternals(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
  return {
    name: 'lazy-externals',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.namespace === 'lazy-external'
          ? { path: args.path, external: true }
          : { path: args.path, namespace: 'lazy-external' },
      );
      build.onLoad({ filter: /.*/, namespace: 'lazy-external' }, async (args) => {
        const names = Object.keys(await import(args.path)).filter(
          (n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n),
        );
        return {
          contents: [
            `const m = await import(${JSON.stringify(args.path)});`,
            ...names.map((n) => `export const ${n} = m.${n};`),
            'export default m.default;',
          ].join('\n'),
          loader: 'js',
          resolveDir: args.resolveDir,
        };
      });
    },
  };
}

/** Bundles the worker into `outfile`; returns its size in bytes, or null when there is no worker yet. */
export async function bundleWorker(root, outfile) {
  const input = entry(root);
  if (!input) return null;
  const { build } = await import('esbuild');
  await build({
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [lazyExternals(EXTERNAL)],
    // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __omoiCreateRequire } from 'node:module'; const require = __omoiCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
    legalComments: 'none',
  });
  return statSync(outfile).size;
}

export default async function buildWorkerBundle(root) {
  const outfile = join(root, 'dist', 'worker.bundle.mjs');
  const size = await bundleWorker(root, outfile);
  if (size === null) {
    console.log('worker bundle: skipped, no worker entry (src/cli/commands/worker.ts) yet');
    return;
  }
  console.log(`worker bundle: dist/worker.bundle.mjs ${(size / 1024).toFixed(0)} KB`);
}
