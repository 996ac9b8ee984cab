import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './package-root.js';

describe('packageRoot', () => {
  it('finds the omoi package.json from any depth and skips other packages on the way', () => {
    const root = mkdtempSync(join(tmpdir(), 'omoi-root-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'omoi' }));
    const nested = join(root, 'dist', 'cli-bundle', 'chunks');
    mkdirSync(nested, { recursive: true });
    // a package.json of something else between the module and the root
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'other' }));
    expect(packageRoot(pathToFileURL(join(nested, 'start.js')).href)).toBe(root);
    expect(packageRoot(pathToFileURL(join(root, 'dist', 'x.js')).href)).toBe(root);
  });

  it('is null outside any omoi package', () => {
    const alone = mkdtempSync(join(tmpdir(), 'omoi-alone-'));
    expect(packageRoot(pathToFileURL(join(alone, 'worker.bundle.mjs')).href)).toBeNull();
  });

  it('finds this checkout from its own source', () => {
    expect(packageRoot(import.meta.url)).toMatch(/\S/);
  });
});
