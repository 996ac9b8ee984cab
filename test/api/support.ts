// Helpers for the API suites: an app over a test database, and JSON requests against it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/api/app.js';
import { loadServerConfig, type ServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import type { Db } from '../../src/db/client.js';
import { loadSpecFiles } from '../../src/spec-format/index.js';
import type { SpecFile } from '../../src/spec-format/types.js';
import { DEFAULT_WAIT_MS } from '../support/wait.js';

export const EXAMPLE_ROOT = join(import.meta.dirname, '..', '..', 'examples', 'spec-driven');

/**
 * An empty bare repository made once per test file: POST /projects checks that a path on the
 * server is a git repository, so suites that only need some project use this one.
 */
export const TEST_REPO = (() => {
  const dir = join(mkdtempSync(join(tmpdir(), 'omoi-test-repo-')), 'repo.git');
  execFileSync('git', ['init', '--quiet', '--bare', dir]);
  return dir;
})();

export interface TestApi {
  app: ReturnType<typeof createApp>;
  services: Services;
  config: ServerConfig;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TestResponse>;
  /** A raw request (any body, any headers). */
  raw(path: string, init: RequestInit): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in the tests
  body: any;
  headers: Headers;
}

export async function makeApi(db: Db, overrides: Partial<ServerConfig> = {}): Promise<TestApi> {
  const services = await createServices(db, { eventPollMs: 500 });
  const config = { ...loadServerConfig({}, { webDir: null }), ...overrides };
  const app = createApp({ services, config });
  const raw = async (path: string, init: RequestInit): Promise<TestResponse> => {
    const res = await app.request(path, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body, headers: res.headers };
  };
  return {
    app,
    services,
    config,
    raw,
    request: (method, path, body, headers = {}) =>
      raw(path, {
        method,
        // Every write says JSON, also without a body, as the clients do (the server refuses others).
        headers: {
          ...(body === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    close: () => services.stop(),
  };
}

let counter = 0;
/** A project name unique within the run. */
export function uniqueName(prefix = 'project'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** The example spec tree's files, as a worker would send them. */
export async function exampleFiles(): Promise<SpecFile[]> {
  const files = await loadSpecFiles(EXAMPLE_ROOT);
  // A missing tree loads as no files, and syncing no files is a 422 far from the cause (a copy of
  // the repository without examples/, as a mutation sandbox once was): say so here instead.
  if (files.length === 0) throw new Error(`no example spec files under ${EXAMPLE_ROOT}`);
  return files.map((f) => ({
    path: f.path,
    content: typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8'),
  }));
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS ?? 30_000,
): Promise<NonNullable<T>> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
