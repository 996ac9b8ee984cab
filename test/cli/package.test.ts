// The package is ready to publish and to install with `npm install -g .`: `npm pack` ships the
// command, the compiled CLI and server, the migrations, the skill, the built web UI, and no tests.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
let files: string[] = [];

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}, 300_000);

describe('npm pack', () => {
  it('contains the command, the compiled CLI, the migrations, the skill and the web UI', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/omoi.js',
        'dist/cli/main.js',
        'dist/worker.bundle.mjs',
        'dist/db/migrations/0001_init.sql',
        'src/skills/spec-driven-dev/SKILL.md',
        'web/dist/index.html',
      ]),
    );
  });

  it('contains no tests, fixtures, sources outside the skill, or local data', () => {
    const unwanted = files.filter(
      (p) =>
        /(^|\/)(test|tests|__tests__|test-results|fixtures|node_modules|\.omoi)\//.test(p) ||
        /\.test\.[cm]?[jt]sx?(\.map)?$/.test(p) ||
        (p.startsWith('src/') && !p.startsWith('src/skills/')) ||
        p.startsWith('web/src/'),
    );
    expect(unwanted).toEqual([]);
  });

  it('declares the omoi command and the Node version it needs', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ omoi: 'bin/omoi.js' });
    expect(pkg.engines.node).toBe('>=20.19');
    expect(pkg.private).toBeUndefined();
    expect(readFileSync(join(repo, 'bin', 'omoi.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});
