// A whole run through both brokers: `omoi start` (local sandbox, the openai runtime driven by the
// scripted fake model server), a private repository on an authenticated git host (git
// http-backend behind basic auth) registered with `omoi project add URL --token-env VAR`. The agent
// looks at everything a sandbox can see (its environment, its process's, the workspace's git
// config); the run pushes through the broker to the host; the token and the model key appear
// nowhere the agent, the API or the timeline can show.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type OmoiServer, ROOT, startOmoi, ticketEvents } from '../e2e-run/support/harness.js';
import {
  conversationTextOf,
  type FakeModelServer,
  startFakeModelServer,
} from '../support/fake-model-server.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createGitRemote, git } from '../support/git-remote.js';

const run = promisify(execFile);
const USER = 'alice';
const TOKEN = `ghp_${randomBytes(16).toString('hex')}`;
const MODEL_KEY = `sk-real-${randomBytes(12).toString('hex')}`;

const LOOK = [
  "tr '\\0' '\\n' < /proc/1/environ",
  "tr '\\0' '\\n' < /proc/$PPID/environ",
  'env',
  'cat .git/config',
  'git remote -v',
].join('; echo ---; ');

describe('a run through the git and model brokers', () => {
  let tmp: string;
  let remote: string;
  let host: GitHttpServer;
  let model: FakeModelServer;
  let server: OmoiServer;

  beforeAll(async () => {
    ensureBuilt();
    tmp = await mkdtemp(join(tmpdir(), 'omoi-broker-run-'));
    remote = createGitRemote(tmp, { name: 'app.git' });
    host = await startGitHttpServer({ root: tmp, username: USER, password: TOKEN });
    model = await startFakeModelServer({
      turns: [
        { toolCalls: [{ name: 'run_command', input: { command: LOOK } }] },
        { toolCalls: [{ name: 'write_file', input: { path: 'hello.txt', content: 'hello\n' } }] },
        { toolCalls: [{ name: 'finish', input: { summary: 'wrote hello.txt' } }] },
      ],
    });
    server = await startOmoi({
      dataDir: join(tmp, 'data'),
      env: {
        AGENT_RUNTIME: 'openai',
        OPENAI_BASE_URL: `${model.url}/v1`,
        OPENAI_API_KEY: MODEL_KEY,
        OMOI_MODEL: 'gpt-fake',
        OMOI_LEASE_MS: '5000',
      },
    });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await host?.close();
    await model?.close();
  });

  it('registers the private repository with --token-env, runs a ticket, and pushes through the broker', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: tmp, OMOIOS_API_URL: server.url, GIT_TOKEN: TOKEN },
      });
    const added = await cli(
      'project',
      'add',
      `${host.url}/app.git`,
      '--token-env',
      'GIT_TOKEN',
      '--username',
      USER,
      '--json',
    );
    const project = JSON.parse(added.stdout) as {
      id: string;
      repo_url: string;
      default_branch: string;
      credential: unknown;
    };
    expect(project.repo_url).toBe(`${host.url}/app.git`);
    expect(project.default_branch).toBe('main');
    expect(project.credential).toMatchObject({ kind: 'https_token', username: USER });
    // A URL with the token in it is split by the CLI: the project keeps the URL without it.
    const embedded = await cli(
      'project',
      'add',
      `http://${USER}:${TOKEN}@127.0.0.1:${new URL(host.url).port}/app.git`,
      '--name',
      'again',
    );
    expect(embedded.stdout).toContain(`repo ${host.url}/app.git, branch main`);
    expect(embedded.stdout).toContain(`credential https_token (${USER})`);
    expect(embedded.stdout + embedded.stderr).not.toContain(TOKEN);
    expect((await cli('project', 'list')).stdout).not.toContain(TOKEN);

    const created = await server.api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      {
        project_id: project.id,
        description: 'Write hello.txt',
        workflow_mode: 'quick',
      },
    );
    const events = await ticketEvents(server, created.ticket.id, (list) =>
      list.some(
        (e) => e.task_id === created.task.id && (e.type === 'task.completed' || e.type === 'task.failed'),
      ),
    );
    const end = events.find((e) => e.type === 'task.completed' || e.type === 'task.failed')!;
    expect(end.type, JSON.stringify(end.data)).toBe('task.completed');
    const pushed = events.find((e) => e.type === 'git.pushed')!;
    const branch = String(pushed.data.branch);
    // On the real host, pushed by the server with the stored credential.
    expect(git(remote, 'show', `${branch}:hello.txt`)).toBe('hello');
    expect(host.requests.every((r) => r.authorized || r.path.endsWith('/info/refs'))).toBe(true);

    // What the agent saw of its sandbox: the broker's URLs and its task token, never the remote or a key.
    const looked = model.modelRequests()[1]!;
    const seen = conversationTextOf(looked);
    expect(seen).toContain(`/api/v1/git/${project.id}.git`);
    expect(seen).toContain('/api/v1/model/openai');
    expect(seen).not.toContain(TOKEN);
    expect(seen).not.toContain(MODEL_KEY);
    expect(seen).not.toContain(host.url);
    // The model calls reached the fake model server with the real key, sent by the server.
    expect(model.modelRequests().every((r) => r.credential === `Bearer ${MODEL_KEY}`)).toBe(true);

    // The timeline, the API's views and the server's output hold neither secret.
    const views = [
      JSON.stringify(events),
      JSON.stringify(await server.api('GET', '/projects')),
      JSON.stringify(await server.api('GET', `/tickets/${created.ticket.id}`)),
      JSON.stringify(await server.api('GET', `/tasks/${created.task.id}`)),
      server.output.join(''),
    ];
    for (const view of views) {
      expect(view).not.toContain(TOKEN);
      expect(view).not.toContain(MODEL_KEY);
    }
    const mirrorConfig = await readFile(join(tmp, 'data', 'mirrors', `${project.id}.git`, 'config'), 'utf8');
    expect(mirrorConfig).not.toContain(TOKEN);
    expect(mirrorConfig).toContain('hooksPath');
  }, 300_000);
});
