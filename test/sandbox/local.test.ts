import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalProvider } from '../../src/sandbox/local.js';
import { createGitRemote } from '../support/git-remote.js';
import { CONTRACT_WORKER, describeProviderContract } from './contract.js';

// `local` runs the contract for real: a git clone from a bare repository in a temp folder and the
// contract script as the worker process (bwrap when it is installed).
describeProviderContract('local (real git and processes)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'omoi-contract-local-'));
  // A server running as root runs sandboxes as `nobody`, who must pass through to the workspaces.
  await chmod(root, 0o755);
  const remote = createGitRemote(root);
  const dataDir = join(root, 'data');
  return {
    provider: createLocalProvider({
      dataDir,
      omoiBin: CONTRACT_WORKER,
      path: process.env.PATH ?? '',
      killGraceMs: 5_000,
    }),
    envOverrides: { REPO_URL: remote },
    relayedCredentials: ['OMOIOS_API_KEY'],
    leftovers: async () => {
      const workspaces = join(dataDir, 'workspaces');
      return existsSync(workspaces) ? readdir(workspaces) : [];
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
});
