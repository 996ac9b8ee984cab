// Findings 11, 12 and 13 of issue 12 (and the repo_url part of "What to build" 7): repo_url is
// validated and checked when a project is added through the API, git never reads it as an option,
// the file tools' .git guard sees through symlinks, and git failures keep the lines that say why.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspaceTools } from '../../src/agents/tools/workspace-tools.js';
import { detectDefaultBranch } from '../../src/cli/default-branch.js';
import { parseRepoLocation } from '../../src/core/repo-url.js';
import { cloneAndCheckout, git, gitFailureReason } from '../../src/git/git.js';
import { describeEachDatabase } from '../support/db.js';
import { makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'omoi-sec-input-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('repo_url forms', () => {
  it.each([
    'https://github.com/acme/shop.git',
    'http://git.local:8080/shop',
    'ssh://git@github.com/acme/shop.git',
    'git@github.com:acme/shop.git',
    '/srv/git/shop.git',
    'file:///srv/git/shop.git',
  ])('accepts %s', (value) => {
    expect(() => parseRepoLocation(value)).not.toThrow();
  });

  it.each([
    '--upload-pack=touch /tmp/omoi-pwned',
    '-u touch',
    'ext::sh -c touch% /tmp/omoi-pwned',
    'fd::17',
    'relative/path',
    'ftp://example.com/repo',
    'https://',
    'https://-oProxyCommand=x/repo',
    'git@host:path\nwith-newline',
    'x'.repeat(2001),
  ])('refuses %s', (value) => {
    expect(() => parseRepoLocation(value)).toThrow(/repo_url/);
  });
});

describeEachDatabase('security: projects added through the API', (getDb) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await makeApi(getDb());
  });
  afterAll(async () => {
    await api?.close();
  });

  it('refuses an option smuggled in as repo_url (finding 12) and stores nothing', async () => {
    const marker = join(root, 'pwned');
    for (const repo_url of [`--upload-pack=touch ${marker}`, `ext::sh -c touch% ${marker}`]) {
      const name = uniqueName('evil');
      const res = await api.request('POST', '/api/v1/projects', { name, repo_url });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect((await api.services.projects.list()).some((p) => p.name === name)).toBe(false);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('checks a path on the server as the CLI does: it exists and is a git repository', async () => {
    const plain = join(root, 'plain-folder');
    mkdirSync(plain, { recursive: true });
    const missing = await api.request('POST', '/api/v1/projects', {
      name: uniqueName('m'),
      repo_url: join(root, 'nope'),
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('no such folder');
    const notRepo = await api.request('POST', '/api/v1/projects', { name: uniqueName('n'), repo_url: plain });
    expect(notRepo.status).toBe(400);
    expect(notRepo.body.error.message).toContain('not a git repository');
    const ok = await api.request('POST', '/api/v1/projects', { name: uniqueName('ok'), repo_url: TEST_REPO });
    expect(ok.status).toBe(201);
    const remote = await api.request('POST', '/api/v1/projects', {
      name: uniqueName('remote'),
      repo_url: 'https://git.example.com/acme/shop.git',
    });
    expect(remote.status).toBe(201);
  });
});

describe('git receives a repository after --', () => {
  it('clones nothing and runs nothing for a repository named like an option', async () => {
    const marker = join(root, 'clone-pwned');
    // Read as an option, the URL would make git run `touch <marker>` as its upload-pack against the
    // next argument; a real repository there lets that command run.
    const dir = join(root, 'victim.git');
    execFileSync('git', ['init', '--quiet', '--bare', dir]);
    await expect(
      cloneAndCheckout({
        repoUrl: `--upload-pack=touch ${marker}`,
        dir,
        baseBranch: 'main',
        workBranch: 'w',
      }),
    ).rejects.toMatchObject({ code: 'GIT_FAILED' });
    expect(existsSync(marker)).toBe(false);
    expect(await detectDefaultBranch(`--upload-pack=touch ${marker}`)).toBeNull();
    expect(existsSync(marker)).toBe(false);
  });
});

describe('git failures keep their reason (finding 13)', () => {
  it('keeps the fatal/error/hint lines, not only the last ones', () => {
    const stderr = [
      'fatal: the reason that matters',
      ...Array.from({ length: 20 }, (_, i) => `progress line ${i}`),
      'hint: what to do about it',
      'trailing noise 1',
      'trailing noise 2',
      'trailing noise 3',
    ].join('\n');
    const reason = gitFailureReason(stderr);
    expect(reason).toContain('fatal: the reason that matters');
    expect(reason).toContain('hint: what to do about it');
    expect(reason).toContain('trailing noise 3');
    expect(reason).not.toContain('progress line 3');
  });

  it("keeps a remote hook's error from a real rejected push", async () => {
    const bare = join(root, 'hooked.git');
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', bare]);
    writeFileSync(
      join(bare, 'hooks', 'pre-receive'),
      '#!/bin/sh\necho "error: branch main is protected by policy" >&2\nfor i in 1 2 3 4 5 6; do echo "noise $i" >&2; done\nexit 1\n',
      { mode: 0o755 },
    );
    const work = join(root, 'hooked-work');
    execFileSync('git', ['clone', '--quiet', bare, work]);
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    writeFileSync(join(work, 'a.txt'), 'a');
    execFileSync('git', ['-C', work, 'add', 'a.txt'], { env });
    execFileSync('git', ['-C', work, 'commit', '--quiet', '-m', 'a'], { env });
    const failure = await git(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: work, env }).catch(
      (e: Error) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('branch main is protected by policy');
  });
});

describe('the .git guard of the file tools sees through symlinks (finding 11)', () => {
  it('refuses writes and reads through a symlink to .git or into it', async () => {
    const ws = join(root, 'ws');
    mkdirSync(ws, { recursive: true });
    execFileSync('git', ['init', '--quiet', ws]);
    symlinkSync('.git', join(ws, 'innocent'));
    symlinkSync('.git/config', join(ws, 'settings.ini'));
    mkdirSync(join(ws, 'docs'));
    symlinkSync('../.git/hooks', join(ws, 'docs', 'hooks'));
    const tools = createWorkspaceTools(ws);
    const configBefore = readFileSync(join(ws, '.git', 'config'), 'utf8');
    const attempts = [
      ['write_file', { path: 'innocent/hooks/post-checkout', content: '#!/bin/sh\ntouch /tmp/x\n' }],
      ['write_file', { path: 'innocent/config', content: '[core]\n\tfsmonitor = touch /tmp/x\n' }],
      ['write_file', { path: 'settings.ini', content: '[core]\n\tfsmonitor = touch /tmp/x\n' }],
      ['write_file', { path: 'docs/hooks/pre-commit', content: '#!/bin/sh\n' }],
      ['read_file', { path: 'innocent/config' }],
      ['edit_file', { path: 'settings.ini', old_text: '[core]', new_text: '[core]\n\tfsmonitor = x' }],
    ] as const;
    for (const [name, args] of attempts) {
      const outcome = await tools.execute(name, JSON.stringify(args));
      expect(outcome.ok, `${name} ${JSON.stringify(args)}: ${outcome.output}`).toBe(false);
      expect(outcome.output).toContain('.git');
    }
    expect(existsSync(join(ws, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(existsSync(join(ws, '.git', 'hooks', 'pre-commit'))).toBe(false);
    expect(readFileSync(join(ws, '.git', 'config'), 'utf8')).toBe(configBefore);
    // An ordinary file is still writable.
    expect((await tools.execute('write_file', JSON.stringify({ path: 'src/a.ts', content: 'x' }))).ok).toBe(
      true,
    );
  });
});
