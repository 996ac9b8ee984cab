// Text that enters the API must be text: no NUL bytes (PostgreSQL refuses them in text and jsonb,
// and they cut strings short in C tools such as git), no lone UTF-16 surrogates (not encodable as
// UTF-8), and JSON nested no deeper than MAX_JSON_DEPTH (deep nesting overflows recursive code
// further down). Checked once here for the path, the query string and JSON bodies, before any
// route reads them, so every route answers 400 instead of failing somewhere inside.
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../base/errors.js';
import type { AppEnv } from './context.js';

/** The deepest a JSON body may nest arrays and objects. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string may not enter, or null when it may. */
export function badText(value: string): string | null {
  if (value.includes('\0')) return 'contains a NUL byte';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/**
 * How deep a JSON text nests (brackets outside strings), stopping early past `limit`. Linear,
 * without recursion, so it is safe on any input.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
      continue;
    }
    if (ch === 34) inString = true;
    else if (ch === 91 /* [ */ || ch === 123 /* { */) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (ch === 93 /* ] */ || ch === 125 /* } */) depth--;
  }
  return max;
}

/** The first bad string in a parsed JSON value (keys included), as `path: reason`. */
function findBad(value: unknown, path: string): string | null {
  if (typeof value === 'string') {
    const why = badText(value);
    return why ? `${path || 'body'} ${why}` : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBad(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    const keyWhy = badText(key);
    if (keyWhy) return `a key in ${path || 'body'} ${keyWhy}`;
    const found = findBad(inner, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}

function decodeOrRefuse(component: string, what: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    throw new AppError('BAD_REQUEST', `the ${what} is not valid percent-encoded UTF-8`);
  }
  const why = badText(decoded);
  if (why) throw new AppError('BAD_REQUEST', `the ${what} ${why}`);
  return decoded;
}

/**
 * The middleware: after the body limit (so a body is bounded before it is read), before auth and
 * the routes. A body it reads is cached by Hono, so routes read it again for free.
 */
export function inputGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    for (const segment of url.pathname.split('/')) decodeOrRefuse(segment, 'path');
    if (url.search.length > 1)
      for (const pair of url.search.slice(1).split('&')) {
        const eq = pair.indexOf('=');
        decodeOrRefuse(eq < 0 ? pair : pair.slice(0, eq), 'query string');
        if (eq >= 0) decodeOrRefuse(pair.slice(eq + 1), 'query string');
      }
    const method = c.req.method;
    if (
      (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') &&
      c.req.raw.body
    ) {
      const text = await c.req.text();
      if (text.trim() !== '') {
        if (jsonDepth(text) > MAX_JSON_DEPTH)
          throw new AppError('BAD_REQUEST', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new AppError('INVALID_JSON', 'the request body is not valid JSON');
        }
        const bad = findBad(parsed, '');
        if (bad) throw new AppError('BAD_REQUEST', `refused: ${bad}`);
      }
    }
    return next();
  };
}
