import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FakeHttp, json, parseJson, type RecordedRequest } from './http-fake.js';
import { LocalProcess, sandboxBaseEnv } from './local-process.js';

const HOME = '/home/daytona';

interface FakeDaytonaSandbox {
  id: string;
  name: string;
  snapshot?: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  body: Record<string, unknown>;
  root: string;
  sessions: Map<string, Map<string, { command: string; process: LocalProcess }>>;
}

/**
 * A fake of what `@daytonaio/sdk` calls for our provider, on one 127.0.0.1 port: the control API
 * under `/api` (create, get, list by labels, delete; bearer key) and each sandbox's toolbox under
 * `/toolbox/<id>` (multipart bulk upload, sessions, async session commands, the follow log
 * WebSocket with Daytona's 3-byte stdout/stderr markers, one-shot execute). A sandbox is a temp
 * folder; absolute paths under /home/daytona map into it; commands run as local processes. The
 * SDK's Socket.IO event channel is not faked: the SDK falls back to polling, as it does when the
 * socket is down.
 */
export interface FakeDaytonaService {
  apiUrl: string;
  apiKey: string;
  http: FakeHttp;
  sandboxes: Map<string, FakeDaytonaSandbox>;
  close(): Promise<void>;
}

export async function startFakeDaytona(options: { apiKey?: string } = {}): Promise<FakeDaytonaService> {
  const apiKey = options.apiKey ?? `dtn_${randomBytes(8).toString('hex')}`;
  const home = mkdtempSync(join(tmpdir(), 'omoi-fake-daytona-'));
  const sandboxes = new Map<string, FakeDaytonaSandbox>();
  const http = new FakeHttp();
  const sockets = new WebSocketServer({ noServer: true });
  let baseUrl = '';

  // Absolute sandbox paths in a command line or an upload land in the sandbox's temp folder.
  const mapPaths = (sandbox: FakeDaytonaSandbox, text: string) =>
    text.split(HOME).join(join(sandbox.root, HOME));
  const env = (sandbox: FakeDaytonaSandbox) => ({
    ...sandboxBaseEnv(join(sandbox.root, HOME)),
    ...sandbox.env,
  });
  const dto = (sandbox: FakeDaytonaSandbox, state = 'started') => ({
    id: sandbox.id,
    name: sandbox.name,
    organizationId: 'org_fake',
    snapshot: sandbox.snapshot,
    user: 'daytona',
    env: sandbox.env,
    labels: sandbox.labels,
    public: false,
    networkBlockAll: false,
    domainAllowList: sandbox.body.domainAllowList,
    target: 'us',
    cpu: sandbox.body.cpu ?? 1,
    gpu: 0,
    memory: sandbox.body.memory ?? 1,
    disk: 3,
    state,
    autoStopInterval: sandbox.body.autoStopInterval,
    autoDeleteInterval: sandbox.body.autoDeleteInterval,
    toolboxProxyUrl: `${baseUrl}/toolbox`,
  });
  const notFound = (res: ServerResponse, what: string) =>
    json(res, 404, { statusCode: 404, message: `${what} not found`, error: 'Not Found' });

  const destroy = (sandbox: FakeDaytonaSandbox) => {
    for (const commands of sandbox.sessions.values()) {
      for (const { process } of commands.values()) process.kill('SIGKILL');
    }
    sandboxes.delete(sandbox.id);
    rmSync(sandbox.root, { recursive: true, force: true });
  };

  const api = (request: RecordedRequest, res: ServerResponse) => {
    const { method, path } = request;
    if (method === 'POST' && path === '/sandbox') {
      const body = parseJson<Record<string, unknown>>(request.body);
      const id = randomUUID();
      const root = join(home, id);
      mkdirSync(join(root, HOME), { recursive: true });
      const sandbox: FakeDaytonaSandbox = {
        id,
        name: String(body.name ?? id),
        snapshot: body.snapshot as string | undefined,
        env: (body.env as Record<string, string>) ?? {},
        labels: (body.labels as Record<string, string>) ?? {},
        body,
        root,
        sessions: new Map(),
      };
      sandboxes.set(id, sandbox);
      // Like Daytona, a new sandbox is still starting; the SDK waits until a read says `started`.
      return json(res, 200, dto(sandbox, 'starting'));
    }
    if (method === 'GET' && path === '/sandbox') {
      const wanted = parseJson<Record<string, string>>(Buffer.from(request.query.get('labels') ?? '{}'));
      const items = [...sandboxes.values()]
        .filter((s) => Object.entries(wanted).every(([key, value]) => s.labels[key] === value))
        .map((s) => dto(s));
      return json(res, 200, { items, total: items.length, page: 1, totalPages: 1 });
    }
    const match = /^\/sandbox\/([^/]+)$/.exec(path);
    const sandbox = match?.[1]
      ? (sandboxes.get(match[1]) ?? [...sandboxes.values()].find((s) => s.name === match[1]))
      : undefined;
    if (match && !sandbox) return notFound(res, `Sandbox with ID or name ${match[1]}`);
    if (sandbox && method === 'GET') return json(res, 200, dto(sandbox));
    if (sandbox && method === 'DELETE') {
      destroy(sandbox);
      return json(res, 200, dto(sandbox, 'destroying'));
    }
    return notFound(res, `Route ${method} ${path}`);
  };

  const toolbox = async (
    sandbox: FakeDaytonaSandbox,
    rest: string,
    request: RecordedRequest,
    res: ServerResponse,
  ) => {
    const { method } = request;
    if (method === 'POST' && rest === '/files/bulk-upload') {
      const form = await new Response(new Uint8Array(request.body), {
        headers: { 'content-type': String(request.headers['content-type']) },
      }).formData();
      for (let i = 0; form.has(`files[${i}].path`); i += 1) {
        const target = mapPaths(sandbox, String(form.get(`files[${i}].path`)));
        const file = form.get(`files[${i}].file`) as Blob;
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, Buffer.from(await file.arrayBuffer()));
      }
      return json(res, 200, undefined);
    }
    if (method === 'POST' && rest === '/process/session') {
      const { sessionId } = parseJson<{ sessionId: string }>(request.body);
      sandbox.sessions.set(sessionId, new Map());
      return json(res, 201, undefined);
    }
    if (method === 'POST' && rest === '/process/execute') {
      const { command } = parseJson<{ command: string }>(request.body);
      const result = await new Promise<{ exitCode: number; result: string }>((resolve) => {
        execFile(
          '/bin/sh',
          ['-c', mapPaths(sandbox, command)],
          { env: env(sandbox) },
          (error, stdout, stderr) => {
            resolve({ exitCode: error ? Number(error.code ?? 1) : 0, result: stdout + stderr });
          },
        );
      });
      return json(res, 200, result);
    }
    const session = /^\/process\/session\/([^/]+)(\/.*)?$/.exec(rest);
    const commands = session?.[1] ? sandbox.sessions.get(session[1]) : undefined;
    if (!session || !commands) return notFound(res, `Session ${session?.[1] ?? rest}`);
    const tail = session[2] ?? '';
    if (method === 'POST' && tail === '/exec') {
      const { command } = parseJson<{ command: string; runAsync?: boolean }>(request.body);
      const cmdId = randomUUID();
      const process = new LocalProcess(['/bin/sh', '-c', mapPaths(sandbox, command)], {
        env: env(sandbox),
        cwd: join(sandbox.root, HOME),
      });
      commands.set(cmdId, { command, process });
      return json(res, 202, { cmdId });
    }
    if (method === 'DELETE' && tail === '') {
      for (const { process } of commands.values()) process.kill('SIGKILL');
      sandbox.sessions.delete(session[1] ?? '');
      return json(res, 204, undefined);
    }
    const command = /^\/command\/([^/]+)(\/logs)?$/.exec(tail);
    const entry = command?.[1] ? commands.get(command[1]) : undefined;
    if (!command || !entry) return notFound(res, `Command ${tail}`);
    if (method === 'GET' && !command[2]) {
      return json(res, 200, {
        id: command[1],
        command: entry.command,
        ...(entry.process.running ? {} : { exitCode: entry.process.exitCode }),
      });
    }
    const text = (stream: 'stdout' | 'stderr') =>
      entry.process.chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.data.toString())
        .join('');
    return json(res, 200, {
      output: text('stdout') + text('stderr'),
      stdout: text('stdout'),
      stderr: text('stderr'),
    });
  };

  const route = (request: RecordedRequest, res: ServerResponse) => {
    if (http.injectFailure(request, res)) return;
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      return json(res, 401, { statusCode: 401, message: 'Invalid API key', error: 'Unauthorized' });
    }
    if (request.path.startsWith('/api/')) return api({ ...request, path: request.path.slice(4) }, res);
    const match = /^\/toolbox\/([^/]+)(\/.*)$/.exec(request.path);
    const sandbox = match?.[1] ? sandboxes.get(match[1]) : undefined;
    if (!match || !sandbox) return notFound(res, `Sandbox for ${request.path}`);
    return toolbox(sandbox, match[2] ?? '', request, res);
  };

  const server = createServer((req, res) => {
    void http
      .record(req)
      .then((request) => route(request, res))
      .catch((error: unknown) => json(res, 500, { statusCode: 500, message: String(error) }));
  });

  // The follow log: a WebSocket carrying each chunk behind a 3-byte stream marker, closed at exit.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/toolbox\/([^/]+)\/process\/session\/([^/]+)\/command\/([^/]+)\/logs$/.exec(
      url.pathname,
    );
    const process = match
      ? sandboxes
          .get(match[1] ?? '')
          ?.sessions.get(match[2] ?? '')
          ?.get(match[3] ?? '')?.process
      : undefined;
    if (!process || req.headers.authorization !== `Bearer ${apiKey}`) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const stop = process.follow((chunk) => {
        if (!chunk) {
          ws.close(1000);
          return;
        }
        const marker = chunk.stream === 'stdout' ? [1, 1, 1] : [2, 2, 2];
        ws.send(Buffer.concat([Buffer.from(marker), chunk.data]));
      });
      ws.on('close', stop);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${baseUrl}/api`,
    apiKey,
    http,
    sandboxes,
    async close() {
      for (const sandbox of [...sandboxes.values()]) destroy(sandbox);
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(home, { recursive: true, force: true });
    },
  };
}
