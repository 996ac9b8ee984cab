// Issue 13's "Done when", in the browser: a Spec-Driven ticket on a private repository (git
// http-backend behind basic auth), with the scripted model writing each task's code, ends with one
// pull request on the fake forge whose branch holds every task's commit, verified by the
// repository's own `npm test`, with the requirements' status in its body; and the token is nowhere
// but the encrypted store: no event, API answer, row, log line, data file or workspace holds it.
// Chromium against a real `omoi start` (PGlite). Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationBranch } from '../../src/contracts/branches.js';
import { freshPostgres } from '../e2e-run/support/harness.js';
import { dagSpec, taskId } from '../exec/support/dag-spec.js';
import { type FakeForge, startFakeForge } from '../support/fake-forge.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { git } from '../support/git-remote.js';
import {
  approveInDialog,
  launchChromium,
  openAwaitingApproval,
  openPage,
  screenshot,
} from './support/browser.js';
import { type RunningOmoi, startOmoi } from './support/omoi-server.js';

const RUN_TIMEOUT = 420_000;
const USER = 'shop-bot';
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const FEATURE = 'DLV';
/** A → B, A → C: B and C are stacked on A, the integration merges all three. */
const TASKS = { A: [], B: ['A'], C: ['A'] };
const REQUIREMENT = `REQ-${FEATURE}-CORE-001`;
const DESCRIPTION = 'Write the DLV steps: a first one, then two built on it.';

/**
 * The repository's own test: it fails until the agent wrote its step files, each saying who did it.
 * It also prints the workspace's git configuration and its environment, so the verification's output
 * (kept in the task's result) shows what a sandboxed run can see; the journey scans it for the token.
 */
const CHECK_JS = `const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
console.log('--- git config ---');
console.log(execFileSync('git', ['config', '--list', '--show-origin'], { encoding: 'utf8' }));
console.log('--- environment ---');
console.log(Object.entries(process.env).map(([k, v]) => k + '=' + v).join('\\n'));
const steps = fs.readdirSync('.').filter((f) => /^step-.*\\.txt$/.test(f));
if (steps.length === 0) {
  console.error('no step file yet');
  process.exit(1);
}
for (const f of steps) {
  if (!fs.readFileSync(f, 'utf8').startsWith('done by ')) {
    console.error(f + ' does not say who did it');
    process.exit(1);
  }
}
console.log('Tests  ' + steps.length + ' passed (' + steps.length + ')');
`;

let omoi: RunningOmoi;
let browser: Browser;
let forge: FakeForge;
let host: GitHttpServer;
/** The git host's root (the private remote is `app.git` in it) and the scripted runtime's script. */
let hostRoot: string;
let scriptDir: string;
let remote: string;
/** The embedded database always; PostgreSQL too when the suites have one. */
const DATABASES = ['pglite', ...(process.env.OMOI_TEST_DATABASE_URL ? ['postgres'] : [])];
/** Every API answer the journey read, to scan for the token. */
const answers: string[] = [];

/** A bare repository with a package.json whose test script is check.js, on `main`. */
function privateRemote(root: string): string {
  const bare = join(root, 'app.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = join(root, 'seed');
  mkdirSync(seed);
  git(seed, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(
    join(seed, 'package.json'),
    `${JSON.stringify({ name: 'shop', private: true, scripts: { test: 'node check.js' } }, null, 2)}\n`,
  );
  writeFileSync(join(seed, 'check.js'), CHECK_JS);
  writeFileSync(join(seed, 'README.md'), '# shop\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', bare, 'HEAD:refs/heads/main');
  rmSync(seed, { recursive: true, force: true });
  return bare;
}

function writeScript(dir: string): string {
  const spec = dagSpec({ feature: FEATURE, tasks: TASKS });
  const script = join(dir, 'script.json');
  writeFileSync(
    script,
    JSON.stringify({
      turns: [
        { mode: 'exploration', write: Object.fromEntries(spec.map((f) => [f.path, String(f.content)])) },
        { mode: 'implementation', write: { 'step-{{spec_task_id}}.txt': 'done by {{spec_task_id}}\n' } },
      ],
    }),
  );
  // Read inside the sandbox, whose user is not this one.
  chmodSync(dir, 0o755);
  chmodSync(script, 0o644);
  return script;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(omoi.url + path, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  answers.push(text);
  return JSON.parse(text) as T;
}

/** Every stored event of the project, read from the event stream until it falls quiet. */
async function projectEventsText(projectId: string): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(`${omoi.url}/api/v1/events?project_id=${projectId}`, {
    headers: { 'last-event-id': '0', accept: 'text/event-stream' },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const quiet = new Promise<null>((done) => setTimeout(() => done(null), 3_000));
      const next = await Promise.race([reader.read(), quiet]);
      if (next === null || next.done) return text;
      text += next.value;
    }
  } finally {
    controller.abort();
  }
}

/** Every row of every table of the database, as JSON text. */
async function rowsOf(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const rows: string[] = [];
    for (const { name } of tables.rows) {
      const found = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${name} t`);
      rows.push(...found.rows.map((r) => `${name}: ${r.row}`));
    }
    return rows;
  } finally {
    await client.end();
  }
}

/** Files under `dir` whose bytes contain `needle` (symlinks not followed). */
function filesHolding(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return execFileSync('grep', ['-rlF', '--', needle, dir], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    // grep exits 1 when nothing matched
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

/** Where the local sandbox put its workspaces: the data folder's, or the one its log names. */
function workspacesOf(server: RunningOmoi): string {
  return /workspaces live in (\S+)/.exec(server.output())?.[1] ?? join(server.dataDir, 'workspaces');
}

interface ApiTask {
  id: string;
  status: string;
  spec_task_id: string | null;
  task_type: string;
  branch: string | null;
  error: string | null;
  result: {
    commit?: string | null;
    verification?: {
      passed: boolean;
      command: string | null;
      exit_code: number | null;
      output_tail: string;
    };
  } | null;
}

describe.each(DATABASES)(
  'a Spec-Driven ticket on a private repository, delivered in the browser (%s)',
  (database) => {
    let postgres: Awaited<ReturnType<typeof freshPostgres>> = null;
    beforeAll(async () => {
      answers.length = 0;
      hostRoot = mkdtempSync(join(tmpdir(), 'omoi-delivery-host-'));
      remote = privateRemote(hostRoot);
      host = await startGitHttpServer({ root: hostRoot, username: USER, password: TOKEN });
      forge = await startFakeForge({ token: TOKEN });
      scriptDir = mkdtempSync(join(tmpdir(), 'omoi-delivery-script-'));
      if (database === 'postgres') postgres = await freshPostgres();
      omoi = await startOmoi({
        AGENT_RUNTIME: 'scripted',
        OMOI_TEST_RUNTIME_SCRIPT: writeScript(scriptDir),
        OMOI_LEASE_MS: '5000',
        ...(postgres ? { DATABASE_URL: postgres.url } : {}),
      });
      browser = await launchChromium();
    }, 300_000);

    afterAll(async () => {
      await browser?.close();
      await omoi?.stop();
      await forge?.close();
      await host?.close();
      await postgres?.drop();
      for (const dir of [hostRoot, scriptDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('ends with one verified pull request holding every task, and the token only in the sealed store', async () => {
      const project = await api<{ id: string; credential: unknown }>('POST', '/api/v1/projects', {
        name: 'shop',
        repo_url: `${host.url}/app.git`,
        credential: { kind: 'https_token', username: USER, secret: TOKEN },
        settings: {
          concurrency_limit: 2,
          pull_request: { provider: 'github', repository: 'acme/shop', api_url: forge.githubUrl },
        },
      });
      expect(project.credential).toMatchObject({ kind: 'https_token', username: USER });
      const { ticket } = await api<{ ticket: { id: string; ref: string } }>('POST', '/api/v1/tickets', {
        project_id: project.id,
        description: DESCRIPTION,
        workflow_mode: 'spec_driven',
      });

      const watched = await openPage(browser, omoi.url, 1280);
      const { page } = watched;
      try {
        await openAwaitingApproval(page, ticket.ref, RUN_TIMEOUT);
        await screenshot(page, `delivery-00-awaiting-approval-${database}`);
        await approveInDialog(page);

        // The ticket page shows the pull request once the integration run opened it.
        const prLink = page.locator('.ticket-head a.badge.pr');
        await prLink.waitFor({ timeout: RUN_TIMEOUT });
        await expect.poll(() => prLink.textContent()).toContain('PR #1 open');
        await page.locator('.ticket-head .badge.status', { hasText: 'done' }).waitFor({ timeout: 60_000 });
        await screenshot(page, 'delivery-01-ticket-pr-1280');

        // The forge got exactly one pull request: the integration branch into the default branch,
        // its body listing the requirement with its status.
        expect(forge.pulls).toHaveLength(1);
        const pull = forge.pulls[0]!;
        expect(pull).toMatchObject({
          repository: 'acme/shop',
          head: integrationBranch(ticket.ref),
          base: 'main',
          state: 'open',
        });
        expect(pull.body, pull.body).toMatch(
          new RegExp(`^- \\*\\*${REQUIREMENT}\\*\\* .*: verified \\(`, 'm'),
        );
        for (const l of Object.keys(TASKS))
          expect(pull.body, pull.body).toMatch(
            new RegExp(
              `^- \\*\\*${taskId(FEATURE, l)}\\*\\* completed on .*: verified: \`npm test\` exit 0`,
              'm',
            ),
          );
        expect(await prLink.getAttribute('href')).toBe(
          `${forge.githubUrl.replace('/github', '')}/acme/shop/pull/1`,
        );

        // Every task's final commit is in the integration branch on the private remote, and each
        // verification (the repository's `npm test`) passed.
        const detail = await api<{ status: string; tasks: ApiTask[] }>('GET', `/api/v1/tickets/${ticket.id}`);
        expect(detail.status).toBe('done');
        const specTasks = detail.tasks.filter((t) => t.spec_task_id);
        expect(specTasks.map((t) => t.spec_task_id).sort()).toEqual(
          Object.keys(TASKS).map((l) => taskId(FEATURE, l)),
        );
        const head = git(remote, 'rev-parse', `refs/heads/${integrationBranch(ticket.ref)}`);
        for (const t of [...specTasks, ...detail.tasks.filter((x) => x.task_type === 'integration')]) {
          const task = await api<ApiTask>('GET', `/api/v1/tasks/${t.id}`);
          expect(task.status, `${t.spec_task_id}: ${task.error}`).toBe('completed');
          expect(task.result?.verification).toMatchObject({
            passed: true,
            command: 'npm test',
            exit_code: 0,
          });
          const commit = task.result?.commit;
          expect(commit, `${t.spec_task_id} has a commit`).toMatch(/^[0-9a-f]{40}$/);
          expect(git(remote, 'rev-parse', task.branch!)).toBe(commit);
          expect(() => git(remote, 'merge-base', '--is-ancestor', commit!, head)).not.toThrow();
          // What the run's workspace holds as its remote: the broker, never the host with the token.
          const seen = task.result?.verification?.output_tail ?? '';
          expect(seen).toContain('remote.origin.url=');
          expect(seen).not.toContain(host.url);
          expect(seen).not.toContain(TOKEN);
          expect(seen).not.toContain('[REDACTED]');
        }
        expect(
          git(remote, 'ls-tree', '--name-only', head)
            .split('\n')
            .filter((f) => f.startsWith('step-')),
        ).toEqual(Object.keys(TASKS).map((l) => `step-${taskId(FEATURE, l)}.txt`));

        const first = taskId(FEATURE, 'A');
        const runs = page.getByRole('region', { name: 'Tasks' });
        // The integration run's changes and diff are what its pull request shows: the spec and every
        // task's file, all it holds beyond the default branch.
        const integration = detail.tasks.find((t) => t.task_type === 'integration')!;
        const diff = await api<{ files: { path: string }[] }>('GET', `/api/v1/tasks/${integration.id}/diff`);
        const prFiles = git(remote, 'diff', '--name-only', `main...${head}`).split('\n').sort();
        expect(diff.files.map((f) => f.path).sort()).toEqual(prFiles);
        for (const l of Object.keys(TASKS)) expect(prFiles).toContain(`step-${taskId(FEATURE, l)}.txt`);
        await runs
          .locator('tr', { hasText: `Integrate ${ticket.ref}` })
          .locator('.changes', { hasText: `${prFiles.length} files` })
          .waitFor();

        // The task panel shows the evidence and the diff view shows the file the task wrote.
        await runs.locator(`tr[data-task="${first}"]`).getByRole('button').click();
        const panel = page.getByRole('dialog', { name: new RegExp(`^Task ${first}`) });
        const delivery = panel.getByRole('region', { name: 'Delivery' });
        await delivery.locator('.badge.status', { hasText: 'verified' }).waitFor();
        await delivery.locator('code', { hasText: 'npm test' }).waitFor();
        // The verification's output folds open under its line, not squeezed beside it.
        const evidenceLine = (await delivery.locator('.evidence-line').boundingBox())!;
        const output = (await delivery.locator('.evidence details').boundingBox())!;
        expect(output.y).toBeGreaterThanOrEqual(evidenceLine.y + evidenceLine.height - 1);
        await delivery.getByRole('button', { name: 'Show the diff' }).click();
        await delivery.locator('.diff-file summary code', { hasText: `step-${first}.txt` }).waitFor();
        await delivery.locator('.patch-line.add', { hasText: `+done by ${first}` }).waitFor();
        await screenshot(page, 'delivery-02-task-evidence-diff-1280');
        await panel.getByRole('button', { name: 'Close the task' }).click();

        // The Requirements tab shows the trace status the server derives.
        const trace = await api<{ requirements: { id: string; status: string }[] }>(
          'GET',
          `/api/v1/tickets/${ticket.id}/trace`,
        );
        expect(trace.requirements.find((r) => r.id === REQUIREMENT)?.status).toBe('verified');
        await page
          .getByRole('tablist', { name: 'Spec views' })
          .getByRole('tab', { name: 'Requirements' })
          .click();
        const line = page.locator('.trace', { hasText: taskId(FEATURE, 'A') });
        await line.locator('.badge.status', { hasText: 'verified' }).waitFor();
        expect(await line.textContent()).toContain(
          `covered by ${Object.keys(TASKS)
            .map((l) => taskId(FEATURE, l))
            .join(', ')}`,
        );
        await screenshot(page, 'delivery-03-requirements-trace-1280');
        // The timeline names the integration run for what it is, not a spec run.
        const groups = page.getByRole('region', { name: 'Timeline' }).locator('.task-group .group-title');
        expect(await groups.allTextContents()).toContain(`Integrate ${ticket.ref}: ${DESCRIPTION}`);
        expect((await groups.allTextContents()).filter((t) => t.startsWith('Spec run:'))).toHaveLength(1);

        // The same ticket on a phone.
        const phone = await openPage(browser, omoi.url, 390);
        try {
          await phone.page.goto(`/tickets/${ticket.ref}`);
          await phone.page.locator('.ticket-head a.badge.pr').waitFor();
          await phone.page
            .getByRole('region', { name: 'Tasks' })
            .locator(`tr[data-task="${first}"]`)
            .waitFor();
          await phone.page.locator('.trace .badge.status', { hasText: 'verified' }).waitFor();
          // Nothing (a pull request's long URL in the timeline) is wider than the phone.
          expect(
            await phone.page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth'),
          ).toBe(0);
          await screenshot(phone.page, 'delivery-04-ticket-pr-390');
        } finally {
          await phone.context.close();
        }
        expect(phone.errors).toEqual([]);

        // The token reached the git host and the forge, and is nowhere else.
        expect(host.requests.some((r) => r.authorized)).toBe(true);
        expect(forge.authorized(TOKEN).length).toBeGreaterThan(0);
        const events = await projectEventsText(project.id);
        expect(events).toContain('pr.opened');
        expect(events).not.toContain(TOKEN);
        await api('GET', `/api/v1/projects/${project.id}`);
        await api('GET', '/api/v1/projects');
        await api('GET', `/api/v1/tasks?ticket_id=${ticket.id}`);
        for (const answer of answers) expect(answer).not.toContain(TOKEN);
        expect(omoi.output()).not.toContain(TOKEN);
        // The scan sees rows: the ticket's description is in the database in plain text, the token
        // (sealed) is not, nor anywhere else in the data folder or the workspaces.
        if (postgres) {
          const rows = await rowsOf(postgres.url);
          expect(rows.some((r) => r.includes(DESCRIPTION))).toBe(true);
          // the sealed store is there, in the table that holds it
          expect(rows.some((r) => r.startsWith('project_credentials: ') && r.includes('"sealed":'))).toBe(
            true,
          );
          expect(rows.filter((r) => r.includes(TOKEN))).toEqual([]);
        } else {
          expect(filesHolding(omoi.dataDir, DESCRIPTION).length).toBeGreaterThan(0);
        }
        expect(filesHolding(omoi.tmp, TOKEN)).toEqual([]);
        expect(existsSync(workspacesOf(omoi))).toBe(true);
        expect(filesHolding(workspacesOf(omoi), TOKEN)).toEqual([]);
        // The remote's history and the pull request's body never got it either.
        expect(git(remote, 'log', '--all', '--format=%B')).not.toContain(TOKEN);
        expect(pull.body).not.toContain(TOKEN);
      } catch (error) {
        await screenshot(page, `delivery-failed-${Date.now()}`).catch(() => undefined);
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\n--- omoi output ---\n${omoi.output().slice(-6000)}`,
        );
      } finally {
        await watched.context.close();
      }
      expect(watched.errors).toEqual([]);
    }, 900_000);
  },
);
