import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeHttp, json, parseJson, type RecordedRequest } from './http-fake.js';
import { LocalProcess, type OutputChunk, sandboxBaseEnv } from './local-process.js';

interface FakeContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  cmd: string[];
  hostConfig: Record<string, unknown>;
  dir: string;
  process?: LocalProcess;
}

/**
 * A fake Docker Engine API on a unix socket: the endpoints dockerode calls for our provider
 * (ping, create, start, logs with the multiplexed stream, wait, stop, remove, list, pull). A
 * container's command runs as a local child process in a temp folder with only the container's
 * Env plus PATH, so the worker script really runs. Used when no Docker daemon is reachable.
 *
 * @example
 * const engine = await startFakeDockerEngine({ images: { 'omoi-worker:test': ['node', 'worker.mjs'] } });
 * const provider = createDockerProvider({ host: engine.host, image: 'omoi-worker:test' });
 */
export interface FakeDockerEngine {
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  host: string;
  http: FakeHttp;
  containers: Map<string, FakeContainer>;
  /** Images `docker pull` can fetch (name → default command). */
  registry: Map<string, string[]>;
  close(): Promise<void>;
}

export async function startFakeDockerEngine(
  options: { images?: Record<string, string[]>; registry?: Record<string, string[]> } = {},
): Promise<FakeDockerEngine> {
  const root = mkdtempSync(join(tmpdir(), 'omoi-fake-docker-'));
  const socketPath = join(root, 'docker.sock');
  const images = new Map(Object.entries(options.images ?? {}));
  const registry = new Map(Object.entries(options.registry ?? {}));
  const containers = new Map<string, FakeContainer>();
  const http = new FakeHttp();

  const find = (idOrName: string) =>
    containers.get(idOrName) ?? [...containers.values()].find((c) => c.name === idOrName);

  const handle = async (request: RecordedRequest, res: ServerResponse) => {
    if (http.injectFailure(request, res)) return;
    const { method, path, query } = request;
    // dockerode may prefix a version (/v1.47/…); the engine accepts both.
    const route = path.replace(/^\/v[\d.]+\//, '/');
    if (method === 'GET' && route === '/_ping') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    if (method === 'POST' && route === '/containers/create') {
      const body = parseJson<{
        Image: string;
        Env?: string[];
        Cmd?: string[];
        Labels?: Record<string, string>;
        HostConfig?: Record<string, unknown>;
      }>(request.body);
      const imageCmd = images.get(body.Image);
      if (!imageCmd) return json(res, 404, { message: `No such image: ${body.Image}` });
      const id = randomBytes(32).toString('hex');
      const name = query.get('name') ?? id.slice(0, 12);
      const dir = join(root, id.slice(0, 12));
      mkdirSync(dir);
      const env = Object.fromEntries(
        (body.Env ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      containers.set(id, {
        id,
        name,
        image: body.Image,
        labels: body.Labels ?? {},
        env,
        cmd: body.Cmd ?? imageCmd,
        hostConfig: body.HostConfig ?? {},
        dir,
      });
      return json(res, 201, { Id: id, Warnings: [] });
    }
    if (method === 'GET' && route === '/containers/json') {
      const filters = parseJson<{ label?: string[] }>(Buffer.from(query.get('filters') ?? '{}'));
      const wanted = (filters.label ?? []).map((label) => label.split('='));
      const list = [...containers.values()].filter((c) =>
        wanted.every(([key, value]) => key !== undefined && c.labels[key] === value),
      );
      return json(
        res,
        200,
        list.map((c) => ({
          Id: c.id,
          Names: [`/${c.name}`],
          Image: c.image,
          Labels: c.labels,
          State: c.process?.running ? 'running' : c.process ? 'exited' : 'created',
        })),
      );
    }
    if (method === 'POST' && route === '/images/create') {
      const name = `${query.get('fromImage')}:${query.get('tag') ?? 'latest'}`;
      const cmd = registry.get(name);
      if (!cmd) {
        return json(res, 404, {
          message: `pull access denied for ${query.get('fromImage')}, repository does not exist or may require 'docker login'`,
        });
      }
      images.set(name, cmd);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        `${JSON.stringify({ status: `Pulling from ${name}` })}\n${JSON.stringify({ status: 'Downloaded' })}\n`,
      );
      return;
    }
    const match = /^\/containers\/([^/]+)(?:\/(\w+))?$/.exec(route);
    const container = match?.[1] ? find(match[1]) : undefined;
    if (!match || !container) {
      return json(res, 404, { message: `No such container: ${match?.[1] ?? route}` });
    }
    const action = match[2];
    if (method === 'POST' && action === 'start') {
      if (container.process) return json(res, 304, undefined);
      container.process = new LocalProcess(container.cmd, {
        env: { ...sandboxBaseEnv(container.dir), ...container.env },
        cwd: container.dir,
      });
      res.writeHead(204);
      res.end();
      return;
    }
    if (method === 'GET' && action === 'logs')
      return streamLogs(container, query.get('follow') === 'true', res);
    if (method === 'POST' && action === 'wait') {
      if (!container.process) return json(res, 409, { message: 'container is not running' });
      const code = await container.process.exited;
      return json(res, 200, { StatusCode: code, Error: null });
    }
    if (method === 'POST' && action === 'stop') {
      if (!container.process?.running) return json(res, 304, undefined);
      container.process.kill('SIGTERM', Number(query.get('t') ?? 10) * 1000);
      await container.process.exited;
      res.writeHead(204);
      res.end();
      return;
    }
    if (method === 'GET' && action === 'json') {
      return json(res, 200, {
        Id: container.id,
        Name: `/${container.name}`,
        Config: { Env: Object.entries(container.env).map(([k, v]) => `${k}=${v}`), Labels: container.labels },
        HostConfig: container.hostConfig,
        State: { Running: container.process?.running ?? false, ExitCode: container.process?.exitCode ?? 0 },
      });
    }
    if (method === 'DELETE' && action === undefined) {
      if (container.process?.running) {
        if (query.get('force') !== 'true') {
          return json(res, 409, { message: `cannot remove container ${container.id}: container is running` });
        }
        container.process.kill('SIGKILL');
        await container.process.exited;
      }
      containers.delete(container.id);
      rmSync(container.dir, { recursive: true, force: true });
      res.writeHead(204);
      res.end();
      return;
    }
    return json(res, 404, { message: `page not found: ${method} ${route}` });
  };

  const server: Server = createServer((req, res) => {
    void http
      .record(req)
      .then((request) => handle(request, res))
      .catch((error: unknown) => json(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    host: `unix://${socketPath}`,
    http,
    containers,
    registry,
    async close() {
      for (const container of containers.values()) container.process?.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Docker's multiplexed stream: per chunk an 8-byte header (1 = stdout, 2 = stderr) and the bytes. */
function frame(chunk: OutputChunk): Buffer {
  const header = Buffer.alloc(8);
  header[0] = chunk.stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(chunk.data.length, 4);
  return Buffer.concat([header, chunk.data]);
}

function streamLogs(container: FakeContainer, follow: boolean, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
  const process = container.process;
  if (!process) {
    res.end();
    return;
  }
  if (!follow) {
    for (const chunk of process.chunks) res.write(frame(chunk));
    res.end();
    return;
  }
  const stop = process.follow((chunk) => {
    if (chunk) res.write(frame(chunk));
    else res.end();
  });
  res.on('close', stop);
}
