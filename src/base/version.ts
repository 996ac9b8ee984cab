// The version of this installation, read from its package.json (the one place it is written).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  // src/base/ and dist/base/ are both two folders below the package root.
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'omoi' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next place
    }
  }
  return '0.0.0-unknown';
}

export const VERSION = readVersion();
