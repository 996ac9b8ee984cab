// The end-to-end runs: a real `omoi start` (PGlite, or PostgreSQL when
// OMOI_TEST_DATABASE_URL is set), a bare repository as the project's remote, real workers in the
// local sandbox, and the `claude` or `openai` runtime pointed at the scripted fake model server.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftSpecSet, parseRequest } from '../../src/agents/offline.js';
import {
  createRemote,
  ensureBuilt,
  freshPostgres,
  git,
  type OmoiEvent,
  type OmoiServer,
  ROOT,
  startOmoi,
  ticketEvents,
} from '../e2e-run/support/harness.js';
import {
  conversationTextOf,
  type FakeModelServer,
  type ScriptTurn,
  startFakeModelServer,
  systemTextOf,
} from '../support/fake-model-server.js';
import { breakStatus, FEEDBACK_MARKER, REQUEST_PROMPT, SKILL_MARKER } from './spec-scenario.js';

const run = promisify(execFile);

interface Created {
  ticket: { id: string; ref: string };
  task: { id: string };
}

const finished = (taskId: string) => (events: OmoiEvent[]) =>
  events.some((e) => e.task_id === taskId && (e.type === 'task.completed' || e.type === 'task.failed'));

const lifecycle = (events: OmoiEvent[], taskId: string) =>
  events
    .filter(
      (e) => e.task_id === taskId && !['sandbox.log', 'agent.message', 'agent.tool_use'].includes(e.type),
    )
    .map((e) => e.type);

beforeAll(() => ensureBuilt(), 600_000);

describe.each(['openai', 'claude'] as const)(
  'omoi start with the %s runtime and the fake model server',
  (runtime) => {
    const files = draftSpecSet(parseRequest(REQUEST_PROMPT), '2026-01-15');
    const ticketFile = files.find((f) => f.path.includes('/tickets/'))!;
    const broken = files.map((f) => (f === ticketFile ? { ...f, content: breakStatus(f.content) } : f));
    // Paths relative to the checkout: the openai tools require it, Claude Code resolves them against its cwd.
    const write = (f: { path: string; content: string }) =>
      runtime === 'openai'
        ? { name: 'write_file', input: { path: f.path, content: f.content } }
        : { name: 'Write', input: { file_path: f.path, content: f.content } };
    const turns: ScriptTurn[] = [
      // The spec_driven ticket: an invalid set, then the repair after the validation report.
      { text: 'Writing the spec set.', toolCalls: broken.map(write) },
      { text: 'Planned.' },
      { text: 'Fixing the status.', toolCalls: [write(ticketFile)] },
      { text: 'Fixed.' },
      // The quick ticket.
      { toolCalls: [write({ path: 'src/limit.txt', content: 'five per minute\n' })] },
      { text: 'Implemented.' },
    ];

    let root: string;
    let remote: string;
    let model: FakeModelServer;
    let server: OmoiServer;
    let projectId: string;
    let dropDatabase: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      root = await mkdtemp(path.join(tmpdir(), `omoi-agents-start-${runtime}-`));
      remote = await createRemote(root);
      model = await startFakeModelServer({ turns });
      const database = await freshPostgres();
      dropDatabase = database?.drop;
      server = await startOmoi({
        dataDir: path.join(root, 'data'),
        env: {
          AGENT_RUNTIME: runtime,
          OMOI_LEASE_MS: '5000',
          OMOI_MAX_TURNS: '6',
          ...(database ? { DATABASE_URL: database.url } : {}),
          ...(runtime === 'openai'
            ? { OPENAI_BASE_URL: `${model.url}/v1`, OPENAI_API_KEY: 'sk-test-openai', OMOI_MODEL: 'gpt-fake' }
            : {
                ANTHROPIC_BASE_URL: model.url,
                ANTHROPIC_API_KEY: 'sk-ant-test-key',
                OMOI_MODEL: 'claude-fake',
              }),
        },
      });
      projectId = (await server.api<{ id: string }>('POST', '/projects', { name: 'demo', repo_url: remote }))
        .id;
    }, 300_000);

    afterAll(async () => {
      await server?.stop();
      await model?.close();
      await dropDatabase?.();
      await rm(root, { recursive: true, force: true });
    });

    const create = (workflow_mode: 'spec_driven' | 'quick', description: string) =>
      server.api<Created>('POST', '/tickets', {
        project_id: projectId,
        title: 'Rate limit logins',
        description,
        workflow_mode,
      });

    it('spec_driven: the skill reaches the model, the validation report comes back, the repair is pushed and synced', async () => {
      const { ticket, task } = await create(
        'spec_driven',
        'Limit failed logins to five per minute per account.',
      );
      const events = await ticketEvents(server, ticket.id, finished(task.id));
      const order = lifecycle(events, task.id);
      expect(order.at(-1), server.output.join('')).toBe('task.completed');
      expect(order.filter((t) => t !== 'task.created')).toEqual([
        'task.claimed',
        'sandbox.spawned',
        'worker.started',
        'skill.injected',
        'spec.validation',
        'spec.validation',
        'git.pushed',
        'spec.synced',
        'task.completed',
      ]);
      expect(events.find((e) => e.type === 'worker.started')?.data).toMatchObject({ runtime });
      expect(events.filter((e) => e.type === 'spec.validation').map((e) => e.data.passed)).toEqual([
        false,
        true,
      ]);
      expect(events.some((e) => e.type === 'agent.tool_use')).toBe(true);
      expect(events.find((e) => e.type === 'spec.synced')?.data).toMatchObject({ created: files.length });

      const requests = model.modelRequests();
      expect(requests).toHaveLength(4);
      expect(systemTextOf(requests[0]!)).toContain(SKILL_MARKER);
      expect(conversationTextOf(requests[0]!)).toContain(ticket.ref);
      expect(conversationTextOf(requests[1]!)).not.toContain(FEEDBACK_MARKER);
      expect(conversationTextOf(requests[2]!)).toContain(FEEDBACK_MARKER);
      expect(conversationTextOf(requests[2]!)).toContain(`${ticketFile.path}:`);

      const branch = String(events.find((e) => e.type === 'git.pushed')?.data.branch);
      expect(git(remote, 'show', `${branch}:${ticketFile.path}`)).toBe(ticketFile.content.trim());
      const specs = await server.api<unknown>('GET', `/tickets/${ticket.id}/specs`);
      // The synced documents include the repaired ticket, by its spec id.
      expect(JSON.stringify(specs)).toContain(/^id: (TKT-\S+)$/m.exec(ticketFile.content)![1]);
    }, 240_000);

    it('quick: no skill text in the system prompt; the change is pushed', async () => {
      const before = model.modelRequests().length;
      const { ticket, task } = await create('quick', 'Add a note about the login limit.');
      const events = await ticketEvents(server, ticket.id, finished(task.id));
      expect(lifecycle(events, task.id).at(-1), server.output.join('')).toBe('task.completed');
      expect(lifecycle(events, task.id)).not.toContain('skill.injected');
      const requests = model.modelRequests().slice(before);
      expect(requests).toHaveLength(2);
      expect(systemTextOf(requests[0]!)).not.toContain(SKILL_MARKER);
      const branch = String(events.find((e) => e.type === 'git.pushed')?.data.branch);
      expect(git(remote, 'show', `${branch}:src/limit.txt`)).toBe('five per minute');
    }, 240_000);

    it('the CLI: omoi ticket create --mode spec_driven --wait shows the run and exits 0', async () => {
      const request = parseRequest(REQUEST_PROMPT.replace('TKT-042', 'TKT-077'));
      const valid = draftSpecSet(request, '2026-01-15');
      model.addTurns([{ toolCalls: valid.map(write) }, { text: 'Planned.' }]);
      const before = model.modelRequests().length;
      const cli = await run(
        process.execPath,
        [
          path.join(ROOT, 'bin/omoi.js'),
          'ticket',
          'create',
          'Show the login limit in the UI.',
          '--project',
          'demo',
          '--mode',
          'spec_driven',
          '--wait',
        ],
        { env: { PATH: process.env.PATH ?? '', HOME: root, OMOIOS_API_URL: server.url }, timeout: 200_000 },
      ).catch((error: { code?: number; stdout?: string; stderr?: string }) => error);
      expect('code' in cli ? cli.code : 0, `${cli.stdout}\n${cli.stderr}`).toBe(0);
      expect(cli.stdout).toMatch(/Spec validation PASSED/);
      expect(model.modelRequests().length - before).toBe(2);
    }, 240_000);

    it('a 429, a broken stream and a tool call with bad arguments: the task still completes', async () => {
      model.addTurns([
        { fault: 'rate_limit' },
        { fault: 'malformed_stream' },
        { toolCalls: [{ name: runtime === 'openai' ? 'write_file' : 'Write', rawArguments: '{"path": ' }] },
        { toolCalls: [write({ path: 'src/retry.txt', content: 'recovered\n' })] },
        { text: 'Done.' },
      ]);
      const { ticket, task } = await create('quick', 'Write the retry note.');
      const events = await ticketEvents(server, ticket.id, finished(task.id));
      expect(lifecycle(events, task.id).at(-1), server.output.join('')).toBe('task.completed');
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'agent.tool_use', data: expect.objectContaining({ ok: false }) }),
      );
      const branch = String(events.find((e) => e.type === 'git.pushed')?.data.branch);
      expect(git(remote, 'show', `${branch}:src/retry.txt`)).toBe('recovered');
    }, 240_000);

    it('the turn limit (OMOI_MAX_TURNS=6): the task fails with max_turns', async () => {
      model.addTurns(
        Array.from({ length: 6 }, () => ({
          toolCalls: [write({ path: 'src/loop.txt', content: 'again\n' })],
        })),
      );
      const { ticket, task } = await create('quick', 'Loop forever.');
      const events = await ticketEvents(server, ticket.id, finished(task.id));
      const failed = events.find((e) => e.task_id === task.id && e.type === 'task.failed');
      expect(failed, server.output.join('')).toBeDefined();
      expect(failed?.data.error).toMatch(/max_turns/);
    }, 240_000);

    // Only for openai here: the Claude Code CLI retries a dead endpoint for minutes by default (its
    // fast failure is in worker-runtimes.test.ts, with CLAUDE_CODE_MAX_RETRIES lowered).
    if (runtime === 'openai')
      it('model server down: the task fails, naming the endpoint', async () => {
        await model.close();
        const { ticket, task } = await create('quick', 'Anything at all.');
        const events = await ticketEvents(server, ticket.id, finished(task.id));
        const failed = events.find((e) => e.task_id === task.id && e.type === 'task.failed');
        expect(failed, server.output.join('')).toBeDefined();
        // The model broker tried the real endpoint (the sandbox only knows the broker) and names it.
        expect(JSON.stringify(failed?.data)).toMatch(
          /model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 cannot be reached \(ECONNREFUSED\)/,
        );
      }, 240_000);
  },
);
