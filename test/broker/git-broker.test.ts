// The git broker against a real authenticated git host (git http-backend behind HTTP Basic) that
// only the server can reach: a task clones and pushes through the broker with its token, the
// server fetches and pushes with the stored credential, pushes outside the task's branch are
// refused before git sees them, a finished task's token is refused, and the secret is found
// nowhere but the sealed store.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { createMirrors } from '../../src/broker/mirrors.js';
import { brokerRepoUrl } from '../../src/contracts/broker-urls.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { brokerAuthEnv, cloneAndCheckout, commitAll, git, pushBranch } from '../../src/git/git.js';
import { describeEachDatabase } from '../support/db.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { createGitRemote, git as gitSync } from '../support/git-remote.js';

const USER = 'alice';
const TOKEN = `ghp_${randomBytes(16).toString('hex')}`;

describeEachDatabase('git broker', (getDb) => {
  let tmp: string;
  let dataDir: string;
  let host: GitHttpServer;
  let remote: string;
  let services: Services;
  let server: RunningServer;
  const logs: string[] = [];
  const responses: string[] = [];

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** A spec ticket's task, running, with a worker token (what the orchestrator does at claim). */
  async function runningTask(projectId: string) {
    const created = await api('POST', '/tickets', {
      project_id: projectId,
      description: 'Add a CSV export',
      workflow_mode: 'spec_driven',
    });
    expect(created.status).toBe(201);
    const { ticket, task } = created.body;
    await getDb().query(`UPDATE tasks SET status = 'running' WHERE id = $1`, [task.id]);
    const token = await services.keys.mintWorkerToken({
      taskId: task.id,
      projectId,
      ticketId: ticket.id,
      ttlMs: 60_000,
    });
    return { ticket, task, token, branch: `omoi/${ticket.ref}` };
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'omoi-broker-'));
    dataDir = join(tmp, 'data');
    remote = createGitRemote(tmp, { name: 'app.git' });
    host = await startGitHttpServer({ root: tmp, username: USER, password: TOKEN });
    const config = loadServerConfig({}, { dataDir, port: 0, webDir: null });
    services = await createServices(getDb(), { eventPollMs: 500, dataDir });
    server = await startServer(config, {
      services,
      log: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    await host?.close();
  });

  it('the git host itself refuses git without the credential', async () => {
    const dir = join(tmp, 'direct');
    await expect(git(['clone', '--quiet', `${host.url}/app.git`, dir], { cwd: tmp })).rejects.toThrow(
      /Authentication failed|could not read Username|401/,
    );
  });

  it('a URL with an embedded token is split: the token is sealed, the URL is kept without it', async () => {
    const created = await api('POST', '/projects', {
      name: 'private-app',
      repo_url: `http://${USER}:${TOKEN}@127.0.0.1:${new URL(host.url).port}/app.git`,
    });
    expect(created.status).toBe(201);
    expect(created.body.repo_url).toBe(`${host.url}/app.git`);
    expect(created.body.credential).toMatchObject({ kind: 'https_token', username: USER });
    expect(JSON.stringify(created.body)).not.toContain(TOKEN);
    const listed = await api('GET', '/projects');
    const project = listed.body.projects.find((p: { id: string }) => p.id === created.body.id);
    expect(project.credential).toMatchObject({ kind: 'https_token', username: USER });
    const sealed = await getDb().query<{ sealed: string }>(
      'SELECT sealed FROM project_credentials WHERE project_id = $1',
      [created.body.id],
    );
    expect(sealed[0]!.sealed).not.toContain(TOKEN);
    // The key file the seal uses is private to the server's user.
    expect((await stat(join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
    // The server-side opener gets it back (what the broker and later pull requests use).
    expect(await services.credentials.reveal(created.body.id)).toEqual({
      kind: 'https_token',
      username: USER,
      secret: TOKEN,
    });
  });

  it('a task clones through the broker and its push reaches the real remote', async () => {
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    const { token, branch, task } = await runningTask(project.id);
    // What the orchestrator does before the sandbox starts.
    const mirrors = createMirrors({ dataDir, credential: (id) => services.credentials.reveal(id) });
    await mirrors.fetch(project.id, project.repo_url, 'main');
    const repoUrl = brokerRepoUrl(server.url, project.id);
    const workspace = join(tmp, 'ws-1');
    const authEnv = brokerAuthEnv(repoUrl, server.url, token);
    await cloneAndCheckout({ repoUrl, dir: workspace, baseBranch: 'main', workBranch: branch, authEnv });
    expect(await readFile(join(workspace, 'README.md'), 'utf8')).toBe('# app\n');
    // Neither the token nor the remote's address is written into the workspace's git config.
    const gitConfig = await readFile(join(workspace, '.git', 'config'), 'utf8');
    expect(gitConfig).toContain(repoUrl);
    expect(gitConfig).not.toContain(token);
    expect(gitConfig).not.toContain(host.url);

    await writeFile(join(workspace, 'export.csv'), 'a,b\n');
    const { commit } = await commitAll({ cwd: workspace, message: 'export' });
    await pushBranch({ cwd: workspace, branch, authEnv });
    expect(gitSync(remote, 'rev-parse', `refs/heads/${branch}`)).toBe(commit);
    // The host saw only authorized requests from the server, none without the credential after the first.
    expect(host.requests.filter((r) => r.path.startsWith('/app.git') && r.authorized).length).toBeGreaterThan(
      0,
    );

    // Without the token (or with a wrong one) the broker refuses.
    await expect(git(['ls-remote', repoUrl], { cwd: tmp })).rejects.toThrow(
      /could not read Username|401|Authentication/,
    );
    await expect(
      git(['ls-remote', repoUrl], {
        cwd: tmp,
        authEnv: brokerAuthEnv(repoUrl, server.url, 'omoi_wt_not-a-token'),
      }),
    ).rejects.toThrow(/401|Authentication|could not read Username/);
    // Through the API its token reads its task, but not the remote's address.
    const view = await fetch(`${server.url}/api/v1/tasks/${task.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(view.status).toBe(200);
    const seen = await view.text();
    expect(seen).not.toContain(host.url);
    expect(JSON.parse(seen).project).toMatchObject({ id: project.id, default_branch: 'main' });
  });

  it('pushes to main, to another branch, a tag or a delete are refused before git sees them', async () => {
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    const { token, branch } = await runningTask(project.id);
    const repoUrl = brokerRepoUrl(server.url, project.id);
    const authEnv = brokerAuthEnv(repoUrl, server.url, token);
    const workspace = join(tmp, 'ws-2');
    await cloneAndCheckout({ repoUrl, dir: workspace, baseBranch: 'main', workBranch: branch, authEnv });
    await writeFile(join(workspace, 'evil.txt'), 'x\n');
    await commitAll({ cwd: workspace, message: 'evil' });
    const mainBefore = gitSync(remote, 'rev-parse', 'refs/heads/main');
    const at = { cwd: workspace, authEnv };
    await expect(git(['push', 'origin', 'HEAD:refs/heads/main'], at)).rejects.toThrow(
      /may push only its own branch/,
    );
    await expect(git(['push', 'origin', 'HEAD:refs/heads/omoi/TKT-999'], at)).rejects.toThrow(
      /may push only its own branch/,
    );
    await git(['tag', 'v9'], at);
    await expect(git(['push', 'origin', 'refs/tags/v9'], at)).rejects.toThrow(/branches only/);
    await expect(git(['push', 'origin', ':refs/heads/omoi/TKT-001'], at)).rejects.toThrow(
      /may push only its own branch/,
    );
    // Its own branch pushed, then deleting it is refused too.
    await pushBranch({ cwd: workspace, branch, authEnv });
    await expect(git(['push', 'origin', `:refs/heads/${branch}`], at)).rejects.toThrow(/may not delete/);
    expect(gitSync(remote, 'rev-parse', 'refs/heads/main')).toBe(mainBefore);
    expect(gitSync(remote, 'for-each-ref', '--format=%(refname)', 'refs/heads/omoi/TKT-999')).toBe('');
    expect(gitSync(remote, 'tag', '--list')).toBe('');
    expect(gitSync(remote, 'rev-parse', `refs/heads/${branch}`)).toBeTruthy();
  });

  it("a task token reaches only its own project's repository", async () => {
    const other = createGitRemote(tmp, { name: 'other.git' });
    const created = await api('POST', '/projects', { name: 'other-app', repo_url: other });
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    const { token } = await runningTask(created.body.id);
    const url = brokerRepoUrl(server.url, project.id);
    await expect(
      git(['ls-remote', url], { cwd: tmp, authEnv: brokerAuthEnv(url, server.url, token) }),
    ).rejects.toThrow(/403/);
  });

  it("a finished task's token is refused", async () => {
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    const { token, task } = await runningTask(project.id);
    const url = brokerRepoUrl(server.url, project.id);
    const authEnv = brokerAuthEnv(url, server.url, token);
    expect(await git(['ls-remote', url], { cwd: tmp, authEnv })).toContain('refs/heads/main');
    await getDb().query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [task.id]);
    // The task's end revoked its token (issue 12): git is told to authenticate again, and cannot.
    await expect(git(['ls-remote', url], { cwd: tmp, authEnv })).rejects.toThrow(
      /401|could not read Username/,
    );
    const res = await fetch(`${url}/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
  });

  it('without the stored credential the server can neither fetch nor push; the reason reaches the worker without the secret', async () => {
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    const { token, branch } = await runningTask(project.id);
    const repoUrl = brokerRepoUrl(server.url, project.id);
    const authEnv = brokerAuthEnv(repoUrl, server.url, token);
    const workspace = join(tmp, 'ws-3');
    await cloneAndCheckout({ repoUrl, dir: workspace, baseBranch: 'main', workBranch: branch, authEnv });
    expect((await api('DELETE', `/projects/${project.id}/credentials`)).body).toEqual({ removed: true });
    expect((await api('GET', `/projects/${project.id}`)).body.credential).toBeNull();
    const mirrors = createMirrors({ dataDir, credential: (id) => services.credentials.reveal(id) });
    await expect(mirrors.fetch(project.id, project.repo_url, 'main')).rejects.toThrow(
      /GIT_FAILED|fetch failed|401|Authentication|Username/,
    );
    await writeFile(join(workspace, 'more.txt'), 'more\n');
    await commitAll({ cwd: workspace, message: 'more' });
    const before = refOf(remote, `refs/heads/${branch}`);
    expect(before).toBe(''); // a new branch
    const error = await pushBranch({ cwd: workspace, branch, authEnv }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/remote refused/);
    expect(error?.message).not.toContain(TOKEN);
    expect(refOf(remote, `refs/heads/${branch}`)).toBe(before);
    // The mirror went back too: it never holds what the remote did not take.
    expect(refOf(mirrors.path(project.id), `refs/heads/${branch}`)).toBe(before);
    // Stored again (the API route this time), pushing works.
    const stored = await api('POST', `/projects/${project.id}/credentials`, {
      kind: 'https_token',
      secret: TOKEN,
      username: USER,
    });
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ kind: 'https_token', username: USER });
    expect(JSON.stringify(stored.body)).not.toContain(TOKEN);
    await pushBranch({ cwd: workspace, branch, authEnv });
    expect(gitSync(remote, 'rev-parse', `refs/heads/${branch}`)).toBe(
      gitSync(workspace, 'rev-parse', 'HEAD'),
    );
  });

  it('bad credential input is a 400, never a 500', async () => {
    const project = (await api('GET', '/projects')).body.projects.find(
      (p: { name: string }) => p.name === 'private-app',
    );
    for (const body of [
      { kind: 'https_token', secret: 'two words' },
      { kind: 'https_token', secret: 'x', username: 'a:b' },
      { kind: 'ssh_key', private_key: 'not a key' },
      { kind: 'password', secret: 'x' },
      { kind: 'https_token' },
    ]) {
      const res = await api('POST', `/projects/${project.id}/credentials`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      (
        await api('POST', '/projects/00000000-0000-0000-0000-000000000000/credentials', {
          kind: 'https_token',
          secret: 'abc',
        })
      ).status,
    ).toBe(404);
  });

  it('the secret is nowhere but the sealed store: events, rows, responses, logs, workspaces, mirror', async () => {
    const basic = Buffer.from(`${USER}:${TOKEN}`).toString('base64');
    const needles = [TOKEN, basic];
    const db = getDb();
    const tables = ['events', 'tasks', 'tickets', 'projects', 'sandboxes', 'spec_documents'];
    for (const table of tables) {
      const rows = await db.query(`SELECT * FROM ${table}`);
      const text = JSON.stringify(rows);
      for (const needle of needles) expect(text, table).not.toContain(needle);
    }
    const apiViews = [
      await api('GET', '/projects'),
      await api('GET', '/tasks'),
      await api('GET', '/tickets'),
    ];
    for (const view of apiViews)
      for (const needle of needles) expect(JSON.stringify(view.body)).not.toContain(needle);
    for (const text of [...responses, ...logs])
      for (const needle of needles) expect(text).not.toContain(needle);
    // Every file under the test's folder but the git host's own repository: workspaces, the data
    // folder (mirrors, key file).
    const files = await walk(tmp, (path) => !path.startsWith(join(tmp, 'app.git')));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const content = await readFile(file);
      for (const needle of needles) expect(content.includes(needle), file).toBe(false);
    }
  });
});

/** The commit a ref names in a repository, or '' when it does not exist. */
function refOf(repo: string, ref: string): string {
  return gitSync(repo, 'for-each-ref', '--format=%(objectname)', ref);
}

async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (!keep(path)) continue;
    if (entry.isDirectory()) out.push(...(await walk(path, keep)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
