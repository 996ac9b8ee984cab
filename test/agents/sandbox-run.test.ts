// The real `omoi worker` process in the real local sandbox (a clone, a child process, bwrap when
// installed: then the worker runs as uid 1000 with only its workspace writable) driving each model
// runtime against the fake model server. The API is a small recording HTTP stand-in for the
// worker's three calls, so this runs before and apart from `omoi start`.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { draftSpecSet, parseRequest } from '../../src/agents/offline.js';
import { runtimeEnv } from '../../src/contracts/runtime-env.js';
import { createLocalProvider } from '../../src/sandbox/local.js';
import { buildUserPrompt } from '../../src/worker/prompt.js';
import {
  conversationTextOf,
  type FakeModelServer,
  startFakeModelServer,
  systemTextOf,
} from '../support/fake-model-server.js';
import { breakStatus, FEEDBACK_MARKER, SKILL_MARKER } from './spec-scenario.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let root: string;
let remote: string;
let bundleDir: string;
let workerBin: string;
let api: {
  url: string;
  events: { type: string; data: Record<string, unknown> }[];
  synced: string[][];
  server: Server;
};
let model: FakeModelServer | undefined;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const TASK = {
  id: randomUUID(),
  title: 'Plan',
  description: 'Plan it',
  project_id: 'p1',
  ticket_id: 't1',
  execution_mode: 'exploration' as const,
  ticket: { id: 't1', ref: 'TKT-301', title: 'Export reports', description: 'Export reports as CSV files.' },
};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'omoi-agents-sandbox-'));
  remote = path.join(root, 'remote.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const seed = path.join(root, 'seed');
  git(root, 'clone', '--quiet', remote, seed);
  await writeFile(path.join(seed, 'README.md'), '# app\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');

  // The CLI from source, bundled (dependencies stay in node_modules) two folders below the repo
  // root so that the worker finds src/skills/ exactly as dist/cli/main.js does.
  bundleDir = path.join(repoRoot, 'test-results', `agents-${randomUUID().slice(0, 8)}`);
  workerBin = path.join(bundleDir, 'main.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'src/cli/main.ts')],
    outfile: workerBin,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });

  const events: { type: string; data: Record<string, unknown> }[] = [];
  const synced: string[][] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Bearer worker-token') {
        res.statusCode = 401;
        return res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'bad token' } }));
      }
      if (req.method === 'GET' && req.url === `/api/v1/tasks/${TASK.id}`)
        return res.end(JSON.stringify(TASK));
      if (req.method === 'POST' && req.url === `/api/v1/tasks/${TASK.id}/events`) {
        events.push(body);
        return res.end('{}');
      }
      if (req.method === 'POST' && req.url === '/api/v1/projects/p1/specs/sync') {
        synced.push(body.documents.map((d: { path: string }) => d.path));
        return res.end(JSON.stringify({ created: body.documents.length, updated: 0, unchanged: 0 }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `${req.method} ${req.url}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, events, synced, server };
});

afterAll(async () => {
  await new Promise((resolve) => api?.server.close(resolve));
  await rm(root, { recursive: true, force: true });
  await rm(bundleDir, { recursive: true, force: true });
});
afterEach(async () => {
  await model?.close();
  model = undefined;
  api.events.length = 0;
  api.synced.length = 0;
});

describe.each(['openai', 'claude'] as const)(
  'omoi worker in the local sandbox with the %s runtime',
  (runtime) => {
    it('runs a spec_driven task: skill injected, report fed back, repaired, pushed and synced', async () => {
      const files = draftSpecSet(parseRequest(buildUserPrompt(TASK, 'exploration')), '2026-01-15');
      const ticket = files.find((f) => f.path.includes('/tickets/'))!;
      const broken = files.map((f) => (f === ticket ? { ...f, content: breakStatus(f.content) } : f));
      // Tool calls use paths relative to the workspace (openai) or, for Claude Code, the relative
      // path too: the CLI resolves it against its cwd, the sandbox's checkout.
      const call = (f: { path: string; content: string }) =>
        runtime === 'openai'
          ? { name: 'write_file', input: { path: f.path, content: f.content } }
          : { name: 'Write', input: { file_path: f.path, content: f.content } };
      model = await startFakeModelServer({
        turns: [
          { text: 'Writing the spec set.', toolCalls: broken.map(call) },
          { text: 'Planned.' },
          { toolCalls: [call(ticket)] },
          { text: 'Fixed.' },
        ],
      });
      const serverEnv = {
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: model.url,
        OPENAI_BASE_URL: `${model.url}/v1`,
        OPENAI_API_KEY: 'sk-test',
        OMOI_MODEL: runtime === 'openai' ? 'gpt-fake' : 'claude-fake',
      };
      const branch = `omoi/TKT-301-${runtime}`;
      const provider = createLocalProvider({
        dataDir: path.join(root, `data-${runtime}`),
        omoiBin: workerBin,
        path: process.env.PATH ?? '',
        keepOnFailure: true,
      });
      const sandbox = await provider.create({
        taskId: TASK.id,
        env: {
          ...runtimeEnv(runtime, serverEnv),
          OMOIOS_API_URL: api.url,
          OMOIOS_API_KEY: 'worker-token',
          OMOIOS_PROJECT_ID: 'p1',
          TASK_ID: TASK.id,
          SANDBOX_ID: 'sb-1',
          EXECUTION_MODE: 'exploration',
          REQUIRE_SPEC_SKILL: 'true',
          SELECTED_SKILL: 'spec-driven-dev',
          AGENT_RUNTIME: runtime,
          REPO_URL: remote,
          BASE_BRANCH: 'main',
          WORK_BRANCH: branch,
          MAX_TURNS: '8',
          SPEC_MAX_ATTEMPTS: '3',
        },
      });
      const lines: string[] = [];
      for await (const line of sandbox.logs()) lines.push(`${line.stream}: ${line.text}`);
      const exit = await sandbox.wait();
      expect(exit.exitCode, lines.join('\n')).toBe(0);
      await sandbox.destroy();

      expect(lines.some((l) => l.includes('REQUIRE_SPEC_SKILL=true'))).toBe(true);
      const types = api.events.map((e) => e.type);
      expect(types.filter((t) => !t.startsWith('agent.'))).toEqual([
        'worker.started',
        'skill.injected',
        'spec.validation',
        'spec.validation',
        'git.pushed',
        'spec.synced',
      ]);
      expect(api.events.find((e) => e.type === 'worker.started')?.data).toMatchObject({ runtime });
      expect(api.events.filter((e) => e.type === 'spec.validation').map((e) => e.data.passed)).toEqual([
        false,
        true,
      ]);
      expect(types).toContain('agent.tool_use');

      const requests = model.modelRequests();
      expect(requests).toHaveLength(4);
      expect(systemTextOf(requests[0]!)).toContain(SKILL_MARKER);
      expect(conversationTextOf(requests[2]!)).toContain(FEEDBACK_MARKER);
      expect(conversationTextOf(requests[2]!)).toContain(`${ticket.path}:`);
      expect(git(remote, 'show', `${branch}:${ticket.path}`)).toBe(ticket.content.trim());
      expect(api.synced[0]).toEqual(expect.arrayContaining(files.map((f) => f.path)));
    });
  },
);
