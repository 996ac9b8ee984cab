// Serves the built web UI (web/dist) at `/`: files as they are, and index.html for any other GET
// that is not an API path, so the single-page app's routes survive a reload.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { MiddlewareHandler } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

async function fileAt(path: string): Promise<Buffer | null> {
  try {
    if (!(await stat(path)).isFile()) return null;
    return await readFile(path);
  } catch {
    return null;
  }
}

export function serveWeb(webDir: string): MiddlewareHandler {
  const root = resolve(webDir);
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (
      (method !== 'GET' && method !== 'HEAD') ||
      path.startsWith('/api/') ||
      path === '/api' ||
      path === '/health'
    )
      return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return next();
    }
    const target = resolve(join(root, decoded));
    const inside = target === root || target.startsWith(root + sep);
    let body = inside && target !== root ? await fileAt(target) : null;
    let file = target;
    if (!body) {
      // Missing assets are a 404; any other path is a client-side route of the app.
      if (decoded.startsWith('/assets/')) return next();
      file = join(root, 'index.html');
      body = await fileAt(file);
      if (!body) return next();
    }
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.includes(`${sep}assets${sep}`)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    };
    const bytes = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    return method === 'HEAD' ? c.body(null, 200, headers) : c.body(bytes, 200, headers);
  };
}
