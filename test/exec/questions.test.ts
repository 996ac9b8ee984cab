// The question inbox end to end (issue 15): `omoi start` with the `openai` runtime pointed at the
// scripted fake model server. The spec run's agent asks before writing any file: its task parks in
// awaiting_input holding no sandbox and spending nothing, an independent ticket's task completes
// meanwhile, the server is killed with SIGKILL and started again, the answer over the API resumes
// the run with its conversation restored (the model receives the earlier ask_user call and the
// answer as its result), and the clarification is committed with the spec.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRemote,
  ensureBuilt,
  eventually,
  freshPostgres,
  git,
  type OmoiServer,
  startOmoi,
} from '../e2e-run/support/harness.js';
import { type FakeModelServer, type ScriptTurn, startFakeModelServer } from '../support/fake-model-server.js';
import { dagSpec } from './support/dag-spec.js';

const databases = ['pglite', ...(process.env.OMOI_TEST_DATABASE_URL ? ['postgres'] : [])];
const write = (path: string, content: string) => ({ name: 'write_file', input: { path, content } });
const QUESTION = 'Which database should sessions live in?';

beforeAll(() => ensureBuilt(), 600_000);

describe.each(databases)('an agent asks a person, on %s', (database) => {
  let root: string;
  let remote: string;
  let model: FakeModelServer;
  let server: OmoiServer;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omoi-questions-'));
    remote = await createRemote(root);
    const spec = dagSpec({ feature: 'ASK', tasks: { A: [] } });
    const turns: ScriptTurn[] = [
      // The spec run asks first, before any file exists.
      {
        match: 'Add sessions',
        toolCalls: [
          {
            name: 'ask_user',
            input: {
              question: QUESTION,
              options: ['PostgreSQL', 'Redis'],
              why: 'The request names no store.',
            },
          },
        ],
      },
      // An independent quick ticket runs while the question waits.
      { match: 'Write the changelog', toolCalls: [write('CHANGELOG.md', '# Changes\n')] },
      { match: 'Write the changelog', text: 'Changelog written.' },
      // After the answer: the spec, then the end of the turn.
      {
        match: 'Add sessions',
        text: 'Writing the spec with PostgreSQL.',
        toolCalls: spec.map((f) => write(f.path, String(f.content))),
      },
      { match: 'Add sessions', text: 'Planned.' },
    ];
    model = await startFakeModelServer({ turns });
    const db = database === 'postgres' ? await freshPostgres() : null;
    dropDatabase = db?.drop;
    env = {
      AGENT_RUNTIME: 'openai',
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: 'sk-test-openai',
      OMOI_MODEL: 'gpt-fake',
      OMOI_LEASE_MS: '5000',
      ...(db ? { DATABASE_URL: db.url } : {}),
    };
    server = await startOmoi({ dataDir: join(root, 'data'), env });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await model?.close();
    await dropDatabase?.();
    await rm(root, { recursive: true, force: true });
  });

  it('parks only the asking task, survives a SIGKILL, resumes on the answer and records the clarification', async () => {
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: 'questions',
      repo_url: remote,
      settings: { concurrency_limit: 2 },
    });
    const { ticket, task } = await server.api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      { project_id: project.id, description: 'Add sessions to the login flow', workflow_mode: 'spec_driven' },
    );
    type Question = { id: string; task_id: string; question: string; options: string[]; status: string };
    const open = async () =>
      (await server.api<{ questions: Question[] }>('GET', `/questions?status=open&project_id=${project.id}`))
        .questions;
    await eventually(async () => (await open()).length === 1, 'the question in the inbox', 120_000);
    const [question] = await open();
    expect(question).toMatchObject({
      task_id: task.id,
      question: QUESTION,
      options: ['PostgreSQL', 'Redis'],
    });
    const parked = await server.api<{ status: string; claimed_by: string | null }>(
      'GET',
      `/tasks/${task.id}`,
    );
    expect(parked).toMatchObject({ status: 'awaiting_input', claimed_by: null });

    // Independent work goes on while the question waits.
    const quick = await server.api<{ task: { id: string } }>('POST', '/tickets', {
      project_id: project.id,
      description: 'Write the changelog',
      workflow_mode: 'quick',
    });
    await eventually(
      async () =>
        (await server.api<{ status: string }>('GET', `/tasks/${quick.task.id}`)).status === 'completed',
      'the independent task to complete',
      120_000,
    );

    // Waiting holds no sandbox and calls no model. (Workspaces live in <data>/workspaces, or in the
    // local provider's fallback under /var/tmp when the data folder is closed to the sandbox user.)
    const data = join(root, 'data');
    const digest = createHash('sha256').update(resolve(data)).digest('hex').slice(0, 12);
    const roots = [join(data, 'workspaces'), join('/var/tmp', `omoi-sandboxes-${digest}`)].filter((d) =>
      existsSync(d),
    );
    expect(roots.length).toBeGreaterThan(0);
    await eventually(
      async () => (await Promise.all(roots.map((r) => readdir(r)))).every((entries) => entries.length === 0),
      'every sandbox workspace to be removed',
    );
    const calls = model.modelRequests().length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(model.modelRequests().length).toBe(calls);
    expect((await server.api<{ status: string }>('GET', `/tasks/${task.id}`)).status).toBe('awaiting_input');

    // kill -9 while it waits: nothing is lost.
    await server.stop(true);
    server = await startOmoi({ dataDir: join(root, 'data'), env });
    expect((await open()).map((q) => q.id)).toEqual([question!.id]);

    const answered = await server.api<{ question: { status: string; answer: string } }>(
      'POST',
      `/tasks/${task.id}/answer`,
      { answer: 'PostgreSQL, in the existing database' },
    );
    expect(answered.question).toMatchObject({
      status: 'answered',
      answer: 'PostgreSQL, in the existing database',
    });
    await eventually(
      async () => {
        const t = await server.api<{ status: string; error: string | null }>('GET', `/tasks/${task.id}`);
        if (t.status === 'failed') throw new Error(`the resumed run failed: ${t.error}`);
        return t.status === 'completed';
      },
      'the resumed spec run to complete',
      180_000,
    );

    // The conversation continued: the first request after the answer carries the earlier ask_user
    // call and the answer as that call's result, not a new conversation.
    const resumed = model
      .modelRequests()
      .map(
        (r) =>
          r.body as {
            messages: { role: string; content: unknown; tool_calls?: { function: { name: string } }[] }[];
          },
      )
      .find((body) =>
        body.messages.some((m) => m.role === 'tool' && String(m.content).includes('existing database')),
      );
    expect(resumed).toBeDefined();
    const asking = resumed!.messages.findIndex((m) =>
      m.tool_calls?.some((c) => c.function.name === 'ask_user'),
    );
    expect(asking).toBeGreaterThan(0);
    expect(resumed!.messages[asking + 1]).toMatchObject({ role: 'tool' });
    expect(String(resumed!.messages[asking + 1]!.content)).toContain('PostgreSQL, in the existing database');
    expect(resumed!.messages.filter((m) => m.role === 'user')).toHaveLength(1);

    // The clarification is part of the committed spec, and of the synced requirements document.
    const requirements = git(remote, 'show', `omoi/${ticket.ref}:.omoi_os/requirements/ask.md`);
    expect(requirements).toContain('## Clarifications');
    expect(requirements).toContain(`> ${QUESTION}`);
    expect(requirements).toContain('> PostgreSQL, in the existing database');
    const detail = await server.api<{
      status: string;
      questions: Question[];
      spec_documents: { path: string; content?: string; body?: string }[];
    }>('GET', `/tickets/${ticket.id}`);
    expect(detail.status).toBe('awaiting_approval');
    expect(detail.questions.map((q) => q.status)).toEqual(['answered']);
  }, 600_000);
});
