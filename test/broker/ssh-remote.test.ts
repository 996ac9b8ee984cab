// An ssh remote behind a real sshd on 127.0.0.1 (started here with its own host key and
// authorized_keys; skipped when sshd is not installed): the server fetches and pushes with the
// stored deploy key and known_hosts, a wrong host key is refused, and the key file does not
// outlive the command.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { createMirrors } from '../../src/broker/mirrors.js';
import { brokerRepoUrl } from '../../src/contracts/broker-urls.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { brokerAuthEnv, cloneAndCheckout, commitAll, pushBranch } from '../../src/git/git.js';
import { describeEachDatabase } from '../support/db.js';
import { createGitRemote, git as gitSync } from '../support/git-remote.js';
import { eventually, freePort } from '../support/wait.js';

const SSHD = '/usr/sbin/sshd';
const available = existsSync(SSHD);

describeEachDatabase('ssh remote through the broker', (getDb) => {
  let tmp: string;
  let sshd: ChildProcess | null = null;
  let port: number;
  let remote: string;
  let privateKey: string;
  let knownHosts: string;
  let services: Services;
  let server: RunningServer;
  let dataDir: string;

  beforeAll(async () => {
    if (!available) return;
    tmp = await mkdtemp(join(tmpdir(), 'omoi-ssh-'));
    remote = createGitRemote(tmp, { name: 'app.git' });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp, 'host_key')]);
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'deploy',
      '-f',
      join(tmp, 'deploy_key'),
    ]);
    await writeFile(join(tmp, 'authorized_keys'), await readFile(join(tmp, 'deploy_key.pub')));
    port = await freePort();
    await writeFile(
      join(tmp, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(tmp, 'host_key')}`,
        `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`,
        `PidFile ${join(tmp, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        '',
      ].join('\n'),
    );
    execFileSync('mkdir', ['-p', '/run/sshd']);
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(tmp, 'sshd_config')], { stdio: 'ignore' });
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      'sshd to listen',
    );
    privateKey = await readFile(join(tmp, 'deploy_key'), 'utf8');
    const hostPub = (await readFile(join(tmp, 'host_key.pub'), 'utf8'))
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    knownHosts = `[127.0.0.1]:${port} ${hostPub}\n`;
    dataDir = join(tmp, 'data');
    services = await createServices(getDb(), { eventPollMs: 500, dataDir });
    server = await startServer(loadServerConfig({}, { dataDir, port: 0, webDir: null }), { services });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    sshd?.kill();
  });

  it.skipIf(!available)(
    'fetches and pushes with the stored deploy key; a wrong host key is refused',
    async () => {
      const url = `ssh://${userInfo().username}@127.0.0.1:${port}${remote}`;
      const created = await fetch(`${server.url}/api/v1/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `ssh-app-${Date.now()}`,
          repo_url: url,
          credential: { kind: 'ssh_key', private_key: privateKey, known_hosts: knownHosts },
        }),
      });
      expect(created.status).toBe(201);
      const project = (await created.json()) as { id: string; credential: unknown };
      expect(project.credential).toMatchObject({ kind: 'ssh_key' });
      expect(JSON.stringify(project)).not.toContain('PRIVATE KEY');

      const { ticket, task } = await services.tickets.create({
        project_id: project.id,
        description: 'Anything',
        workflow_mode: 'spec_driven',
      });
      await getDb().query(`UPDATE tasks SET status = 'running' WHERE id = $1`, [task.id]);
      const token = await services.keys.mintWorkerToken({
        taskId: task.id,
        projectId: project.id,
        ticketId: ticket.id,
        ttlMs: 60_000,
      });
      const mirrors = createMirrors({ dataDir, credential: (id) => services.credentials.reveal(id) });
      await mirrors.fetch(project.id, url, 'main', task.id);

      const repoUrl = brokerRepoUrl(server.url, project.id);
      const authEnv = brokerAuthEnv(repoUrl, server.url, token);
      const workspace = join(tmp, 'ws');
      const branch = `omoi/${ticket.ref}`;
      await cloneAndCheckout({ repoUrl, dir: workspace, baseBranch: 'main', workBranch: branch, authEnv });
      await writeFile(join(workspace, 'ssh.txt'), 'over ssh\n');
      const { commit } = await commitAll({ cwd: workspace, message: 'ssh' });
      await pushBranch({ cwd: workspace, branch, authEnv });
      expect(gitSync(remote, 'rev-parse', `refs/heads/${branch}`)).toBe(commit);
      // The key file lived only for the command.
      expect(await readdir(join(dataDir, 'mirrors', '.tmp'))).toEqual([]);

      // Another host key in known_hosts: strict checking refuses the server.
      const otherKey = join(tmp, 'other_host');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
      const otherPub = (await readFile(`${otherKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
      await services.credentials.set(project.id, {
        kind: 'ssh_key',
        private_key: privateKey,
        known_hosts: `[127.0.0.1]:${port} ${otherPub}\n`,
      });
      await expect(mirrors.fetch(project.id, url, 'main')).rejects.toThrow(
        /Host key verification failed|REMOTE HOST IDENTIFICATION/,
      );
      // No credential at all: refused too (the server user's own keys are not authorized there).
      await services.credentials.remove(project.id);
      await expect(mirrors.fetch(project.id, url, 'main')).rejects.toThrow(/GIT_FAILED|fetch failed/);
    },
  );
});
