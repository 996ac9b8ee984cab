// Where this installation lives: the folder of omoi's own package.json, found by walking up from a
// module's URL. Modules sit at different depths (src/<area>/, dist/<area>/, dist/cli/commands/, the
// CLI bundle's chunks), so a fixed `../../..` breaks when a build moves a file; the walk does not.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root above `moduleUrl` (its package.json names `omoi`), or null when there is none
 * (a worker bundle copied into a sandbox alone).
 *
 * @example
 * const bin = join(packageRoot(import.meta.url)!, 'bin', 'omoi.js');
 */
export function packageRoot(moduleUrl: string): string | null {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'omoi') return dir;
      } catch {
        // an unreadable package.json is not ours: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
