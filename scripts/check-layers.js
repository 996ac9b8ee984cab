#!/usr/bin/env node
// Checks the module graph of src/: no import cycles, and every folder imports only the folders its
// layer may use (docs/design.md, "Architecture"). Run by `npm run check`; prints each violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

/** What each top-level folder of src/ may import (besides itself). */
const ALLOWED = {
  base: [],
  contracts: ['base'],
  'spec-format': ['base', 'contracts'],
  git: ['base'],
  db: ['base'],
  // the forge clients sit below the domain like the database: the server opens pull requests itself
  forge: ['base', 'contracts'],
  core: ['base', 'contracts', 'db', 'spec-format', 'forge'],
  queue: ['base', 'contracts', 'db', 'core'],
  agents: ['base', 'contracts', 'spec-format'],
  sandbox: ['base', 'contracts', 'git'],
  worker: ['base', 'contracts', 'spec-format', 'git', 'agents'],
  orchestrator: ['base', 'contracts', 'db', 'core', 'queue', 'sandbox'],
  broker: ['base', 'contracts', 'db', 'core', 'git'],
  notify: ['base', 'contracts', 'db', 'core'],
  mcp: ['base', 'contracts', 'spec-format', 'api'],
  api: ['base', 'contracts', 'db', 'core', 'spec-format', 'broker', 'notify'],
  cli: ['*'],
  skills: [],
};

/** Modules only entry points (src/cli) may import: they choose what runs (providers). */
const ENTRY_ONLY = ['sandbox/registry.ts'];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const files = walk(src);
const graph = new Map();
const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g,
  )) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    deps.push(target);
  }
  graph.set(file, deps);
  const from = relative(src, file).split('/')[0];
  const allowed = ALLOWED[from];
  if (!allowed) {
    problems.push(`${relative(root, file)}: folder src/${from} has no layer in scripts/check-layers.js`);
    continue;
  }
  for (const dep of deps) {
    if (from !== 'cli' && ENTRY_ONLY.includes(relative(src, dep)))
      problems.push(
        `${relative(root, file)} imports ${relative(root, dep)}: only entry points (src/cli) choose providers`,
      );
    const to = relative(src, dep).split('/')[0];
    if (to === from || allowed.includes('*') || allowed.includes(to)) continue;
    problems.push(
      `${relative(root, file)} imports ${relative(root, dep)}: src/${from} may not import src/${to}`,
    );
  }
}

// Cycles, by depth-first search over static and dynamic imports alike.
const state = new Map();
const stack = [];
function visit(file) {
  state.set(file, 'open');
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (!graph.has(dep)) continue;
    const s = state.get(dep);
    if (s === 'open') {
      const cycle = stack
        .slice(stack.indexOf(dep))
        .concat(dep)
        .map((f) => relative(src, f));
      problems.push(`import cycle: ${cycle.join(' → ')}`);
    } else if (!s) visit(dep);
  }
  stack.pop();
  state.set(file, 'done');
}
for (const file of files) if (!state.has(file)) visit(file);

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} layer problem(s)`);
  process.exit(1);
}
console.log(`layers: ${files.length} modules, no cycles, every import points down`);
