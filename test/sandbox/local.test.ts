import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalProvider } from '../../src/sandbox/local.js';
import { CONTRACT_WORKER, describeProviderContract } from './contract.js';

// `local` runs the contract for real: a git clone from a bare repository in a temp folder and the
// contract script as the worker process (bwrap when it is installed).
describeProviderContract('local (real git and processes)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'omoi-contract-local-'));
  const remote = join(root, 'remote.git');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const seed = join(root, 'seed');
  git(root, 'clone', '--quiet', remote, seed);
  await writeFile(join(seed, 'README.md'), '# contract\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  const dataDir = join(root, 'data');
  return {
    provider: createLocalProvider({
      dataDir,
      omoiBin: CONTRACT_WORKER,
      path: process.env.PATH ?? '',
      killGraceMs: 5_000,
    }),
    envOverrides: { REPO_URL: remote },
    leftovers: async () => {
      const workspaces = join(dataDir, 'workspaces');
      return existsSync(workspaces) ? readdir(workspaces) : [];
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
});
