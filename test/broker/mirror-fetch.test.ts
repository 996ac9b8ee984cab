// The mirror's fetch before a run: runs that ask together share one fetch, and a fetch asked for
// after a push to the remote always sees that push (it never reuses a fetch that started earlier).
// The server's git is the real one, behind a PATH wrapper that logs each command and makes every
// fetch last 300 ms, so a fetch is still running when the next run asks.

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createMirrors } from '../../src/broker/mirrors.js';
import { createGitRemote, git } from '../support/git-remote.js';

let tmp: string;
let remote: string;
let log: string;
let mirrors: ReturnType<typeof createMirrors>;
const projectId = randomUUID();

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omoi-mirror-fetch-'));
  remote = createGitRemote(tmp);
  log = join(tmp, 'git.log');
  const bin = join(tmp, 'bin');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\necho "$*" >> '${log}'\ncase " $* " in *" fetch "*) sleep 0.3;; esac\nexec '${realGit}' "$@"\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  mirrors = createMirrors({
    dataDir: join(tmp, 'data'),
    credential: async () => null,
    baseEnv: { PATH: `${bin}:${process.env.PATH}` },
  });
});

afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const fetches = () =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => / fetch /.test(` ${line} `)).length;

function pushCommit(message: string): string {
  const work = join(tmp, `work-${randomUUID().slice(0, 8)}`);
  git(tmp, 'clone', '--quiet', remote, work);
  writeFileSync(join(work, `${message}.txt`), message);
  git(work, 'add', '.');
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message);
  git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  return git(work, 'rev-parse', 'HEAD');
}

it('sixteen runs asking at once share one fetch, and each gets the remote as it was', async () => {
  const head = git(remote, 'rev-parse', 'main');
  const dirs = await Promise.all(
    Array.from({ length: 16 }, (_, i) => mirrors.fetch(projectId, remote, 'main', `task-${i}`)),
  );
  expect(new Set(dirs)).toEqual(new Set([mirrors.path(projectId)]));
  expect(fetches()).toBe(1);
  expect(git(mirrors.path(projectId), 'rev-parse', 'main')).toBe(head);
  for (let i = 0; i < 16; i++) expect(mirrors.fetchedFor(`task-${i}`)).toBe(true);
});

it('a run that asks while a fetch is under way gets a later fetch, which sees a push made before it asked', async () => {
  const first = mirrors.fetch(projectId, remote, 'main');
  // The first fetch has started (its git sleeps 300 ms before fetching).
  while (!readFileSync(log, { flag: 'a+' }).toString().includes(' fetch ')) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const pushed = pushCommit('second');
  const [, second, third] = await Promise.all([
    first,
    mirrors.fetch(projectId, remote, 'main'),
    mirrors.fetch(projectId, remote, 'main'),
  ]);
  expect(second).toBe(third);
  expect(git(mirrors.path(projectId), 'rev-parse', 'main')).toBe(pushed);
  // The two that asked during the first share the one after it.
  expect(fetches()).toBe(2);
});

it("the mirror's HEAD follows the project's default branch, and is not rewritten while it stays", async () => {
  git(remote, 'branch', 'develop', 'main');
  await mirrors.fetch(projectId, remote, 'main');
  await mirrors.fetch(projectId, remote, 'main');
  const head = () => readFileSync(join(mirrors.path(projectId), 'HEAD'), 'utf8').trim();
  expect(head()).toBe('ref: refs/heads/main');
  const rewrites = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes(' symbolic-ref ')).length;
  // Once when the mirror was made (git init names its own default), not on the second fetch.
  expect(rewrites()).toBe(1);
  await mirrors.fetch(projectId, remote, 'develop');
  expect(head()).toBe('ref: refs/heads/develop');
  expect(rewrites()).toBe(2);
});
