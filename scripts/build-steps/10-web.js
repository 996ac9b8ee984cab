// Build step: the web UI (web/) into web/dist/, served by `omoi start` at `/`. Prints the gzipped
// size of the JavaScript the Command Center loads (the entry script and what it preloads), which
// issue 6 keeps under 250 KB.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 250;

/** The JS files index.html loads up front: its module scripts and modulepreload links. */
export function initialScripts(html) {
  const found = new Set();
  for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"[^>]*>/g)) found.add(match[1]);
  for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"[^>]*>/g))
    found.add(match[1]);
  return [...found];
}

export default async function buildWeb(root) {
  const webRoot = join(root, 'web');
  if (!existsSync(join(webRoot, 'index.html'))) return;
  const { build } = await import('vite');
  await build({
    root: webRoot,
    configFile: join(webRoot, 'vite.config.ts'),
    logLevel: 'warn',
    mode: 'production',
  });

  const dist = join(webRoot, 'dist');
  const scripts = initialScripts(readFileSync(join(dist, 'index.html'), 'utf8'));
  let raw = 0;
  let gzipped = 0;
  for (const src of scripts) {
    const bytes = readFileSync(join(dist, src.replace(/^\//, '')));
    raw += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  const kb = (n) => (n / 1024).toFixed(1);
  const verdict = gzipped / 1024 <= BUDGET_KB ? 'within' : 'OVER';
  process.stdout.write(
    `web: Command Center JS ${kb(gzipped)} KB gzipped (${kb(raw)} KB raw, ${scripts.length} file(s)); ` +
      `${verdict} the ${BUDGET_KB} KB budget\n`,
  );
}
