// `omoi ticket answer`, `omoi questions` and the questions in `ticket show` and `create --wait`: the
// built binary against the real server on PGlite, with questions asked the way a worker asks them
// (its token, POST /tasks/:id/question). Exit codes: 0 answered, 1 nothing to answer, 2 usage
// (several tasks ask and none is named).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { createBareRepo, ROOT } from '../e2e/support/omoi-server.js';
import { askAsWorker } from '../support/ask-as-worker.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/wait.js';

const bin = join(ROOT, 'bin', 'omoi.js');

describe('omoi ticket answer and omoi questions', () => {
  let database: TestDatabase;
  let services: Services;
  let server: RunningServer;
  let tmp = '';
  let projectId = '';

  function cli(args: string[], onStdout?: (text: string) => void) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: tmp,
        env: { PATH: process.env.PATH, HOME: tmp, OMOIOS_API_URL: server.url },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        onStdout?.(stdout);
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** A quick ticket whose one task is pending (nothing else is: the test parks tasks one by one). */
  async function ticket(description: string) {
    return services.tickets.create({ project_id: projectId, description, workflow_mode: 'quick' });
  }

  const asker = () => ({ url: server.url, services });

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    services = await createServices(database.db, { eventPollMs: 200 });
    tmp = mkdtempSync(join(tmpdir(), 'omoi-cli-answer-'));
    const project = await services.projects.create({ name: 'answers', repo_url: createBareRepo(tmp) });
    projectId = project.id;
    // No orchestrator: tasks run only when the test claims them, as a worker would.
    server = await startServer(loadServerConfig({}, { port: 0, host: '127.0.0.1', webDir: null }), {
      services,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    await database?.cleanup();
  });

  it('answers the one open question: show and the inbox list it first, then the task is queued again', async () => {
    const { ticket: t, task } = await ticket('Add sessions to the API');
    const nothing = await cli(['ticket', 'answer', t.ref, 'PostgreSQL']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe(`omoi: ${t.ref} has no open question (tasks: implementation pending)\n`);

    await askAsWorker(asker(), task.id, {
      question: 'Which database should sessions use?',
      options: ['PostgreSQL', 'Redis'],
      why: 'The request names none.',
    });

    const shown = await cli(['ticket', 'show', t.ref]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ {4}awaiting_input implementation +Add sessions to the API/m);
    expect(shown.stdout).toContain(
      [
        '  questions (1 waiting for your answer)',
        `    implementation  omoi ticket answer ${t.ref} "<answer>"`,
        '      ? Which database should sessions use?',
        '        why: The request names none.',
        '        options: PostgreSQL | Redis',
      ].join('\n'),
    );
    expect(shown.stdout).toMatch(
      new RegExp(`^ {2}next {5}omoi ticket answer ${t.ref} "<answer>" {2}\\(an agent asks a question`, 'm'),
    );

    const inbox = await cli(['questions']);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(inbox.stdout).toContain(`${t.ref}  Add sessions to the API  (asked `);
    expect(inbox.stdout).toContain(`  answer: omoi ticket answer ${t.ref} "<answer>"`);
    const json = await cli(['inbox', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject([{ task_id: task.id, status: 'open', ticket_ref: t.ref }]);

    const answered = await cli(['ticket', 'answer', t.ref, 'PostgreSQL, the one we run']);
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stdout).toBe(
      `answered ${t.ref} implementation: Add sessions to the API is pending again and resumes with your answer\n` +
        `  next omoi ticket show ${t.ref}\n`,
    );
    expect(await services.tasks.get(task.id)).toMatchObject({ status: 'pending' });
    const [stored] = await services.questions.list({ ticket_id: t.id });
    expect(stored).toMatchObject({
      status: 'answered',
      answer: 'PostgreSQL, the one we run',
      answered_by: 'local user',
    });

    // answered once: a second answer finds nothing open; the inbox is empty again
    const again = await cli(['ticket', 'answer', t.ref, 'Redis']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has no open question \(tasks: implementation pending\)/);
    expect((await cli(['questions'])).stdout).toBe('no question waits for an answer\n');
    expect((await cli(['questions', '--status', 'answered'])).stdout).toContain(
      '  answered by local user: PostgreSQL, the one we run',
    );
    await services.tasks.cancel(task.id);
  });

  it('asks which task when several ask (exit 2, listing them), and answers the one --task names', async () => {
    const { ticket: t, task: first } = await ticket('Export reports');
    await askAsWorker(asker(), first.id, { question: 'CSV or TSV?' });
    const second = await services.tasks.create({ ticket_id: t.id, title: 'Stream large reports' });
    await askAsWorker(asker(), second.id, { question: 'How large is large?', options: ['1 GB', '10 GB'] });

    const which = await cli(['ticket', 'answer', t.ref, 'CSV']);
    expect(which.code).toBe(2);
    expect(which.stderr).toContain(`error: 2 tasks of ${t.ref} ask: name one with --task`);
    expect(which.stderr).toContain(
      `  implementation  omoi ticket answer ${t.ref} --task ${first.id} "<answer>"`,
    );
    expect(which.stderr).toContain(
      `  implementation  omoi ticket answer ${t.ref} --task ${second.id} "<answer>"`,
    );
    expect(which.stderr).toContain('    ? How large is large?');
    expect(which.stderr).toMatch(/^usage: omoi ticket answer <ref-or-id> "<answer>" \[--task ID\]/m);
    expect((await services.tasks.get(first.id)).status).toBe('awaiting_input');

    const unknown = await cli(['ticket', 'answer', t.ref, 'CSV', '--task', 'TSK-NOPE']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no open question of ${t.ref} for --task TSK-NOPE`);

    const shown = await cli(['ticket', 'show', t.ref, '--json']);
    expect(JSON.parse(shown.stdout).next).toEqual({
      text: '2 tasks ask a question: answer each (--task names it)',
      command: `omoi ticket answer ${t.ref} --task ${first.id} "<answer>"`,
    });

    // a unique start of the id is enough
    const picked = await cli(['ticket', 'answer', t.ref, '10 GB', '--task', second.id.slice(0, 8), '--json']);
    expect(picked.code, picked.stderr).toBe(0);
    expect(JSON.parse(picked.stdout)).toMatchObject({
      question: { question: 'How large is large?', answer: '10 GB', status: 'answered' },
      task: { id: second.id, status: 'pending' },
    });
    expect((await services.tasks.get(first.id)).status).toBe('awaiting_input');
    // one left: no --task needed
    const last = await cli(['ticket', 'answer', t.ref, 'CSV']);
    expect(last.code, last.stderr).toBe(0);
    expect((await services.tasks.get(first.id)).status).toBe('pending');
    await services.tasks.cancel(first.id);
    await services.tasks.cancel(second.id);
  });

  it('refuses an empty answer as a usage error, before asking the server', async () => {
    const empty = await cli(['ticket', 'answer', 'TKT-001', '   ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error: the answer is empty\nusage: omoi ticket answer/);
  });

  it('create --wait stops at a question and prints it with the command that answers it', async () => {
    let parked = false;
    const waiting = cli(
      ['ticket', 'create', 'Add a login page', '--project', 'answers', '--mode', 'quick', '--wait'],
      (out) => {
        if (parked || !/^TKT-\d+ /.test(out)) return;
        parked = true;
        void (async () => {
          const ref = /^(TKT-\d+)/.exec(out)![1]!;
          const [task] = await eventually(
            () => services.tasks.list({ project_id: projectId, status: 'pending' }),
            'the new task',
          ).then((tasks) => tasks.filter((k) => k.title.includes('login')));
          expect(task, ref).toBeDefined();
          await askAsWorker(asker(), task!.id, {
            question: 'Password or single sign-on?',
            options: ['password', 'SSO'],
            why: 'The ticket does not say.',
          });
        })();
      },
    );
    const run = await waiting;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const ref = /^(TKT-\d+)/.exec(run.stdout)![1]!;
    expect(run.stdout).toMatch(
      /s {2}the agent asks: Password or single sign-on\?\n {4}why: The ticket does not say\.\n {4}options: password \| SSO\n {4}\(the task waits for your answer\)\n/,
    );
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(`  next omoi ticket answer ${ref} "<answer>"`);
  }, 120_000);
});
