import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FakeHttp, json, parseJson, type RecordedRequest } from './http-fake.js';
import { LocalProcess, sandboxBaseEnv } from './local-process.js';

interface FakeE2BSandbox {
  id: string;
  template: string;
  metadata: Record<string, string>;
  network: unknown;
  timeoutSeconds: number;
  root: string;
  processes: Map<number, LocalProcess>;
  startedAt: string;
}

/**
 * A fake of the two HTTP surfaces the `e2b` SDK talks to, on one 127.0.0.1 port: the control API
 * (`POST /v2/sandboxes`, `GET /v2/sandboxes`, `DELETE /sandboxes/:id`, with `X-API-KEY`) and each
 * sandbox's envd daemon, which the SDK reaches at `sandboxUrl` with an `E2b-Sandbox-Id` header:
 * `POST /files` (octet-stream upload), and the connect-rpc `process.Process` service in its JSON
 * form (`Start` is server-streaming with 5-byte envelopes; `SendSignal` and `List` are unary).
 * A sandbox is a temp folder; its absolute paths map under it; commands run as local processes.
 */
export interface FakeE2BService {
  url: string;
  apiKey: string;
  http: FakeHttp;
  sandboxes: Map<string, FakeE2BSandbox>;
  close(): Promise<void>;
}

export async function startFakeE2B(
  options: { apiKey?: string; templates?: string[] } = {},
): Promise<FakeE2BService> {
  const apiKey = options.apiKey ?? `e2b_${randomBytes(8).toString('hex')}`;
  const templates = new Set(options.templates ?? ['base']);
  const home = mkdtempSync(join(tmpdir(), 'omoi-fake-e2b-'));
  const sandboxes = new Map<string, FakeE2BSandbox>();
  const http = new FakeHttp();

  const inside = (sandbox: FakeE2BSandbox, path: string) => join(sandbox.root, path);

  const kill = (sandbox: FakeE2BSandbox) => {
    for (const process of sandbox.processes.values()) process.kill('SIGKILL');
    sandboxes.delete(sandbox.id);
    rmSync(sandbox.root, { recursive: true, force: true });
  };

  const api = (request: RecordedRequest, res: ServerResponse) => {
    if (request.headers['x-api-key'] !== apiKey) {
      return json(res, 401, { code: 401, message: 'Invalid API key, it must start with e2b_' });
    }
    const { method, path } = request;
    if (method === 'POST' && path === '/v2/sandboxes') {
      const body = parseJson<{
        templateID: string;
        metadata?: Record<string, string>;
        timeout?: number;
        network?: unknown;
      }>(request.body);
      if (!templates.has(body.templateID)) {
        return json(res, 404, { code: 404, message: `template '${body.templateID}' not found` });
      }
      const id = `i${randomBytes(9).toString('hex')}`;
      const root = join(home, id);
      mkdirSync(join(root, 'home', 'user'), { recursive: true });
      sandboxes.set(id, {
        id,
        template: body.templateID,
        metadata: body.metadata ?? {},
        network: body.network,
        timeoutSeconds: body.timeout ?? 300,
        root,
        processes: new Map(),
        startedAt: new Date().toISOString(),
      });
      return json(res, 201, {
        sandboxID: id,
        templateID: body.templateID,
        clientID: 'fake',
        envdVersion: '0.5.7',
        envdAccessToken: `envd_${id}`,
      });
    }
    if (method === 'GET' && path === '/v2/sandboxes') {
      const wanted = new URLSearchParams(request.query.get('metadata') ?? '');
      const list = [...sandboxes.values()].filter((s) =>
        [...wanted.entries()].every(([key, value]) => s.metadata[key] === value),
      );
      return json(
        res,
        200,
        list.map((s) => ({
          sandboxID: s.id,
          templateID: s.template,
          clientID: 'fake',
          metadata: s.metadata,
          startedAt: s.startedAt,
          endAt: new Date(Date.parse(s.startedAt) + s.timeoutSeconds * 1000).toISOString(),
          state: 'running',
          cpuCount: 2,
          memoryMB: 512,
          diskSizeMB: 1024,
          envdVersion: '0.5.7',
        })),
      );
    }
    const match = /^\/sandboxes\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && match?.[1]) {
      const sandbox = sandboxes.get(match[1]);
      if (!sandbox) return json(res, 404, { code: 404, message: `sandbox "${match[1]}" not found` });
      kill(sandbox);
      res.writeHead(204);
      res.end();
      return;
    }
    return json(res, 404, { code: 404, message: `no route ${method} ${path}` });
  };

  const envd = async (sandbox: FakeE2BSandbox, request: RecordedRequest, res: ServerResponse) => {
    if (request.headers['x-access-token'] !== `envd_${sandbox.id}`) {
      return json(res, 401, { code: 401, message: 'invalid access token' });
    }
    const { method, path } = request;
    if (method === 'POST' && path === '/files') {
      const target = request.query.get('path') ?? '';
      mkdirSync(dirname(inside(sandbox, target)), { recursive: true });
      writeFileSync(inside(sandbox, target), request.body);
      return json(res, 200, [{ name: basename(target), type: 'file', path: target }]);
    }
    if (method === 'POST' && path === '/process.Process/Start') {
      const [message] = readEnvelopes(request.body);
      const start = message as {
        process: { cmd: string; args?: string[]; envs?: Record<string, string>; cwd?: string };
      };
      const cwd = inside(sandbox, start.process.cwd ?? '/home/user');
      mkdirSync(cwd, { recursive: true });
      const process = new LocalProcess([start.process.cmd, ...(start.process.args ?? [])], {
        env: { ...sandboxBaseEnv(inside(sandbox, '/home/user')), ...start.process.envs },
        cwd,
      });
      sandbox.processes.set(process.pid, process);
      res.writeHead(200, { 'content-type': 'application/connect+json' });
      res.write(envelope(0, { event: { start: { pid: process.pid } } }));
      const stop = process.follow((chunk) => {
        if (chunk) {
          res.write(envelope(0, { event: { data: { [chunk.stream]: chunk.data.toString('base64') } } }));
          return;
        }
        const code = process.exitCode ?? -1;
        res.write(
          envelope(0, { event: { end: { exitCode: code, exited: true, status: `exit status ${code}` } } }),
        );
        res.end(envelope(2, {}));
        sandbox.processes.delete(process.pid);
      });
      res.on('close', stop);
      return;
    }
    if (method === 'POST' && path === '/process.Process/SendSignal') {
      const body = parseJson<{ process: { pid: number }; signal: string }>(request.body);
      const process = sandbox.processes.get(body.process.pid);
      if (!process)
        return json(res, 404, { code: 'not_found', message: `process ${body.process.pid} not found` });
      process.kill(body.signal === 'SIGNAL_SIGTERM' ? 'SIGTERM' : 'SIGKILL');
      return json(res, 200, {});
    }
    if (method === 'POST' && path === '/process.Process/List') {
      return json(res, 200, {
        processes: [...sandbox.processes.entries()].map(([pid]) => ({ pid, config: { cmd: '/bin/bash' } })),
      });
    }
    if (method === 'GET' && path === '/health') {
      res.writeHead(204);
      res.end();
      return;
    }
    return json(res, 404, { code: 404, message: `no envd route ${method} ${path}` });
  };

  const server = createServer((req, res) => {
    void http
      .record(req)
      .then((request) => {
        if (http.injectFailure(request, res)) return;
        const sandboxId = request.headers['e2b-sandbox-id'];
        if (typeof sandboxId !== 'string') return api(request, res);
        const sandbox = sandboxes.get(sandboxId);
        // The edge proxy's answer for a sandbox that is gone.
        if (!sandbox) return json(res, 502, { code: 502, message: `The sandbox ${sandboxId} was not found` });
        return envd(sandbox, request, res);
      })
      .catch((error: unknown) => json(res, 500, { code: 500, message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    http,
    sandboxes,
    async close() {
      for (const sandbox of [...sandboxes.values()]) kill(sandbox);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Connect's stream framing: 1 flag byte (2 = end of stream), a 4-byte big-endian length, JSON. */
function envelope(flags: number, message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function readEnvelopes(body: Buffer): unknown[] {
  const messages: unknown[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const size = body.readUInt32BE(offset + 1);
    messages.push(JSON.parse(body.subarray(offset + 5, offset + 5 + size).toString('utf8')));
    offset += 5 + size;
  }
  return messages;
}
