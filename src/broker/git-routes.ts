// The git broker: a project's mirror served over git's smart HTTP protocol to that project's task
// sandboxes, under the task token. A sandbox can clone and fetch its own project and push only its
// task's branch; the ref updates of a push are read and checked before git sees the pack, and what
// git accepted is pushed on to the real remote by the server (with the project's credential) before
// the worker hears "ok". Mounted on the API app and on the sandbox-only listener.
//
//   GET  /api/v1/git/<project-id>.git/info/refs?service=git-upload-pack|git-receive-pack
//   POST /api/v1/git/<project-id>.git/git-upload-pack
//   POST /api/v1/git/<project-id>.git/git-receive-pack
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { AppError, coerceError } from '../base/errors.js';
import { GIT_BROKER_PATH } from '../contracts/broker-urls.js';
import type { KeysService } from '../core/keys.js';
import type { ProjectsService } from '../core/projects.js';
import type { Queryable } from '../db/client.js';
import type { Mirrors, RefUpdate } from './mirrors.js';
import { FLUSH, pkt, readUntilFlush, sideband } from './pkt-line.js';
import { scrub } from './redact.js';
import { type TaskGrant, taskGrant } from './task-grant.js';

export interface GitBrokerDeps {
  keys: Pick<KeysService, 'verify'>;
  projects: Pick<ProjectsService, 'get'>;
  db: Queryable;
  mirrors: Mirrors;
  /** Largest push accepted, in bytes (default 1 GiB). */
  maxPushBytes?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** The URL path prefix of the broker. */
export { GIT_BROKER_PATH };

const SERVICES = new Set(['git-upload-pack', 'git-receive-pack']);
const ZERO_ID = /^0+$/;

/**
 * The broker's routes as a Hono app to mount (`app.route('/', gitBrokerRoutes(deps))`), before any
 * middleware that wants JSON bodies.
 *
 * @example
 * app.route('/', gitBrokerRoutes({ keys: services.keys, projects: services.projects, db: services.db, mirrors }));
 * // in the sandbox: git clone http://127.0.0.1:7878/api/v1/git/<project-id>.git   (token in an extra header)
 */
export function gitBrokerRoutes(deps: GitBrokerDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? (() => {});

  app.onError((error, c) => {
    const e = coerceError(error);
    if (e.status >= 500) log(`git broker: ${e.message}`);
    const headers: Record<string, string> = {};
    if (e.status === 401) headers['www-authenticate'] = 'Basic realm="omoi git broker", charset="UTF-8"';
    return c.json(
      { error: { code: e.code, message: e.status >= 500 ? 'the git broker failed' : e.message } },
      e.status as 400,
      headers,
    );
  });

  /** The grant and project of a request whose path names `<project-id>.git`. */
  const open = async (c: Context): Promise<{ grant: TaskGrant; projectId: string }> => {
    const name = c.req.param('repo') ?? '';
    const match = /^([0-9a-f-]{36})\.git$/i.exec(name);
    const grant = await taskGrant(c.req.raw.headers, deps);
    if (!match || match[1]!.toLowerCase() !== grant.projectId)
      throw new AppError('FORBIDDEN', "a task token reaches only its own project's repository");
    return { grant, projectId: grant.projectId };
  };

  /**
   * The mirror's folder, fetched from the remote first when this process did not fetch it for the
   * task's run (another server's orchestrator started it) or has no mirror yet.
   */
  const mirrorOf = async (projectId: string, taskId: string): Promise<string> => {
    const dir = deps.mirrors.path(projectId);
    if (!existsSync(join(dir, 'HEAD')) || !deps.mirrors.fetchedFor(taskId)) {
      const project = await deps.projects.get(projectId);
      await deps.mirrors.fetch(projectId, project.repo_url, project.default_branch, taskId);
    }
    return dir;
  };

  app.get(`${GIT_BROKER_PATH}/:repo/info/refs`, async (c) => {
    const { grant, projectId } = await open(c);
    const service = c.req.query('service') ?? '';
    if (!SERVICES.has(service))
      throw new AppError(
        'FORBIDDEN',
        'only the smart HTTP protocol is served (service=git-upload-pack or git-receive-pack)',
      );
    const dir = await mirrorOf(projectId, grant.taskId);
    const advert = await runCollect(
      deps.mirrors,
      [service.slice(4), '--stateless-rpc', '--advertise-refs', dir],
      null,
    );
    if (advert.code !== 0)
      throw new AppError('GIT_FAILED', `git ${service} failed: ${advert.stderr.slice(-500)}`);
    return new Response(Buffer.concat([pkt(`# service=${service}\n`), FLUSH, advert.stdout]), {
      headers: {
        'content-type': `application/x-${service}-advertisement`,
        'cache-control': 'no-cache, max-age=0, must-revalidate',
      },
    });
  });

  app.post(`${GIT_BROKER_PATH}/:repo/git-upload-pack`, async (c) => {
    const { grant, projectId } = await open(c);
    const dir = await mirrorOf(projectId, grant.taskId);
    const child = spawn('git', [...deps.mirrors.safety(), 'upload-pack', '--stateless-rpc', dir], {
      env: deps.mirrors.env(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr.resume();
    child.stdin.on('error', () => {});
    requestBody(c)
      .on('error', () => child.kill())
      .pipe(child.stdin);
    c.req.raw.signal?.addEventListener('abort', () => child.kill());
    return new Response(Readable.toWeb(child.stdout) as ReadableStream, {
      headers: { 'content-type': 'application/x-git-upload-pack-result', 'cache-control': 'no-cache' },
    });
  });

  app.post(`${GIT_BROKER_PATH}/:repo/git-receive-pack`, async (c) => {
    const { grant, projectId } = await open(c);
    const project = await deps.projects.get(projectId);
    const dir = await mirrorOf(projectId, grant.taskId);
    const body = requestBody(c, deps.maxPushBytes ?? 1 << 30)[Symbol.asyncIterator]();

    // 1. The ref updates, up to their flush, before anything reaches git.
    let head: Buffer = Buffer.alloc(0);
    let parsed: ReturnType<typeof readUntilFlush> = null;
    while (!parsed) {
      const next = await body.next();
      if (next.done) break;
      head = Buffer.concat([head, next.value as Buffer]);
      if (head.length > 4 << 20) throw new AppError('BAD_REQUEST', 'the ref update list is too long');
      try {
        parsed = readUntilFlush(head);
      } catch (error) {
        throw new AppError('BAD_REQUEST', `not a git push: ${(error as Error).message}`);
      }
    }
    if (!parsed) throw new AppError('BAD_REQUEST', 'not a git push: the ref update list never ends');
    const request = parseCommands(parsed.lines);
    const refusals = new Map<string, string>();
    for (const update of request.updates) {
      const reason = refusal(update, grant);
      if (reason) refusals.set(update.ref, reason);
    }
    if (refusals.size > 0) {
      // Refused whole, before git sees the pack: drain what the client still sends.
      for (;;) if ((await body.next()).done) break;
      log(
        `git broker refused a push of task ${grant.taskId}: ${[...refusals].map(([r, why]) => `${r} (${why})`).join(', ')}`,
      );
      const lines = request.updates.map(
        (u) => `ng ${u.ref} ${refusals.get(u.ref) ?? 'refused with the other refs of this push'}\n`,
      );
      return reportResponse(['unpack ok\n', ...lines], request.sideband);
    }

    // 2. git receive-pack on the mirror (report without side-band, so it can be amended), then the
    //    accepted refs on to the remote; the mirror's lock keeps fetches out meanwhile.
    return deps.mirrors.locked(projectId, async () => {
      const first = Buffer.concat(
        parsed.lines.map((line, i) => pkt(i === request.capsLine ? withCaps(line, request.caps) : line)),
      );
      const input = (async function* () {
        yield first;
        yield FLUSH;
        yield head.subarray(parsed.end);
        for (;;) {
          const next = await body.next();
          if (next.done) return;
          yield next.value as Buffer;
        }
      })();
      const result = await runCollect(
        deps.mirrors,
        ['receive-pack', '--stateless-rpc', dir],
        Readable.from(input),
      );
      let report: string[];
      try {
        report = (readUntilFlush(result.stdout)?.lines ?? []).map((l) => l.toString('utf8'));
      } catch {
        report = [];
      }
      if (report.length === 0)
        throw new AppError(
          'GIT_FAILED',
          `git receive-pack failed: ${scrub(result.stderr, [grant.token]).slice(-500)}`,
        );
      const accepted = request.updates.filter((u) =>
        report.some((l) => l === `ok ${u.ref}\n` || l === `ok ${u.ref}`),
      );
      const failed = await deps.mirrors.pushUpstream(projectId, project.repo_url, accepted);
      for (const [ref, why] of failed)
        log(`git broker: the remote refused ${ref} of task ${grant.taskId}: ${why}`);
      const amended = report.map((line) => {
        const ref = /^ok (\S+)\n?$/.exec(line)?.[1];
        return ref && failed.has(ref)
          ? `ng ${ref} the project's remote refused it: ${oneLine(failed.get(ref)!)}\n`
          : line;
      });
      return reportResponse(amended, request.sideband);
    });
  });

  return app;
}

/** Why `update` is refused for this task, or null. */
function refusal(update: RefUpdate, grant: TaskGrant): string | null {
  if (!update.ref.startsWith('refs/heads/')) return 'a task may push branches only';
  if (!grant.pushRefs.has(update.ref))
    return `a task may push only its own branch (${[...grant.pushRefs].map((r) => r.slice(11)).join(', ')})`;
  if (ZERO_ID.test(update.newId)) return 'a task may not delete a branch';
  return null;
}

interface PushRequest {
  updates: RefUpdate[];
  /** Index (in the parsed lines) of the line carrying the capabilities. */
  capsLine: number;
  /** The capabilities to hand to git: no side-band, report-status v1. */
  caps: string[];
  /** Whether the client asked for side-band (so the answer must use it). */
  sideband: boolean;
}

function parseCommands(lines: Buffer[]): PushRequest {
  const updates: RefUpdate[] = [];
  let capsLine = -1;
  let caps: string[] = [];
  lines.forEach((raw, index) => {
    let text = raw.toString('utf8').replace(/\n$/, '');
    if (text.startsWith('shallow ')) return;
    if (text.startsWith('push-cert')) throw new AppError('BAD_REQUEST', 'signed pushes are not accepted');
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      if (capsLine < 0) {
        capsLine = index;
        caps = text
          .slice(nul + 1)
          .split(' ')
          .filter(Boolean);
      }
      text = text.slice(0, nul);
    }
    const match = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (\S+)$/.exec(text);
    if (!match) throw new AppError('BAD_REQUEST', 'not a git push: a malformed ref update');
    updates.push({ oldId: match[1]!, newId: match[2]!, ref: match[3]! });
  });
  if (updates.length === 0) throw new AppError('BAD_REQUEST', 'not a git push: no ref updates');
  const sideband = caps.includes('side-band-64k') || caps.includes('side-band');
  const given = caps
    .filter((c) => c !== 'side-band-64k' && c !== 'side-band' && c !== 'report-status-v2')
    .filter((c) => c !== 'report-status');
  return { updates, capsLine, caps: [...given, 'report-status'], sideband };
}

/** The ref update line `line` with its capabilities replaced. */
function withCaps(line: Buffer, caps: string[]): Buffer {
  const text = line.toString('utf8').replace(/\n$/, '');
  const nul = text.indexOf('\0');
  return Buffer.from(`${nul < 0 ? text : text.slice(0, nul)}\0${caps.join(' ')}\n`);
}

/** A receive-pack answer holding `lines` (report-status), in side-band 1 when the client asked. */
function reportResponse(lines: string[], useSideband: boolean): Response {
  const report = Buffer.concat([...lines.map((l) => pkt(l)), FLUSH]);
  const payload = useSideband ? Buffer.concat([sideband(1, report), FLUSH]) : report;
  return new Response(new Uint8Array(payload), {
    headers: { 'content-type': 'application/x-git-receive-pack-result', 'cache-control': 'no-cache' },
  });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 400);
}

/** The request body as a Node stream, gunzipped when git compressed it, cut off at `limit` bytes. */
function requestBody(c: Context, limit = 1 << 30): Readable {
  const raw = c.req.raw.body
    ? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream)
    : Readable.from([]);
  let seen = 0;
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) raw.destroy(new AppError('PAYLOAD_TOO_LARGE', `a push is limited to ${limit} bytes`));
  });
  const encoding = c.req.header('content-encoding')?.toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    const gunzip = createGunzip();
    raw.on('error', (error) => gunzip.destroy(error));
    return raw.pipe(gunzip);
  }
  return raw;
}

/** Runs a broker git with `stdin` and collects its output. */
function runCollect(
  mirrors: Mirrors,
  args: string[],
  stdin: Readable | null,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('git', [...mirrors.safety(), ...args], {
      env: mirrors.env(),
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64_000) stderr += d;
    });
    if (stdin && child.stdin) {
      child.stdin.on('error', () => {});
      stdin.on('error', () => child.kill());
      stdin.pipe(child.stdin);
    }
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: Buffer.concat(out), stderr }));
  });
}
