import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specBranch } from '../../src/contracts/branches.js';
import { isEvent } from '../../src/contracts/events.js';
import { encodeWorkerEnv } from '../../src/contracts/worker-env.js';
import { createDaytonaProvider } from '../../src/sandbox/daytona.js';
import { createDockerProvider } from '../../src/sandbox/docker.js';
import { createE2BProvider } from '../../src/sandbox/e2b.js';
import type { SandboxLogLine, SandboxProvider } from '../../src/sandbox/provider.js';
import { WORKER_COMMAND, workerUploads } from '../../src/sandbox/worker-files.js';
import { startFakeDaytona } from '../support/fakes/daytona-service.js';
import { startFakeDockerEngine } from '../support/fakes/docker-engine.js';
import { startFakeE2B } from '../support/fakes/e2b-service.js';
import { createGitRemote, git } from '../support/git-remote.js';
import { startRealWorkerApi } from '../support/real-api.js';

// The travelling worker for real: the build step bundles `omoi worker` into one file, a remote
// provider uploads it with the skills into a bare (fake) sandbox that has only Node and git, and it
// runs a whole spec-driven task with the offline runtime: skill injected, specs validated,
// committed and pushed to the repository, synced to the real API (served on a real socket).
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let root: string;
let packageRoot: string;
let remote: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'omoi-bundle-'));
  // A package root as a remote provider sees it: the built bundle and the shipped skills, no node_modules.
  packageRoot = join(root, 'package');
  mkdirSync(join(packageRoot, 'dist'), { recursive: true });
  const step = (await import(
    pathToFileURL(join(repoRoot, 'scripts/build-steps/20-worker-bundle.js')).href
  )) as {
    bundleWorker(root: string, outfile: string): Promise<number | null>;
  };
  const size = await step.bundleWorker(repoRoot, join(packageRoot, 'dist', 'worker.bundle.mjs'));
  expect(size).toBeGreaterThan(0);
  cpSync(join(repoRoot, 'src', 'skills'), join(packageRoot, 'src', 'skills'), { recursive: true });

  remote = createGitRemote(root);
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

async function runSpecTask(name: string, provider: SandboxProvider) {
  const api = await startRealWorkerApi({
    repoUrl: remote,
    description: 'Send a signed webhook to subscribers when an order is created or paid, with retries.',
  });
  const branch = specBranch(api.ticketRef);
  try {
    const sandbox = await provider.create({
      taskId: api.taskId,
      env: encodeWorkerEnv({
        apiUrl: api.url,
        token: api.token,
        projectId: api.projectId,
        taskId: api.taskId,
        sandboxId: `sbx_${name}`,
        executionMode: 'exploration',
        requiredSkill: 'spec-driven-dev',
        runtime: 'offline',
        runtimeEnv: {},
        repoUrl: remote,
        baseBranch: 'main',
        workBranch: branch,
        maxTurns: 10,
        specMaxAttempts: 3,
      }),
    });
    const lines: SandboxLogLine[] = [];
    for await (const line of sandbox.logs()) lines.push(line);
    const exit = await sandbox.wait();
    await sandbox.destroy();
    const text = lines.map((l) => l.text);
    expect(exit.exitCode, text.join('\n')).toBe(0);
    expect(text).toContain('REQUIRE_SPEC_SKILL=true');
    expect(text.some((t) => t.startsWith('Spec validation PASSED'))).toBe(true);
    const events = await api.events();
    const types = events.map((e) => e.type);
    for (const type of ['worker.started', 'skill.injected', 'spec.validation', 'git.pushed', 'spec.synced']) {
      expect(types, type).toContain(type);
    }
    // The real sync stored the ticket's documents, each tied to the ticket the worker ran for.
    const documents = await api.services.specs.listForTicket(api.ticketId);
    expect(documents.some((doc) => doc.kind === 'ticket' && doc.path.startsWith('.omoi_os/tickets/'))).toBe(
      true,
    );
    const pushed = events.find((e) => isEvent(e, 'git.pushed'));
    expect(pushed && isEvent(pushed, 'git.pushed')).toBe(true);
    if (pushed && isEvent(pushed, 'git.pushed'))
      expect(git(remote, 'rev-parse', `refs/heads/${branch}`)).toBe(pushed.data.commit);
  } finally {
    await api.close();
  }
}

describe('the travelling worker bundle', () => {
  it('runs a spec task in an E2B sandbox it was uploaded to', async () => {
    const e2b = await startFakeE2B();
    try {
      await runSpecTask(
        'e2b',
        createE2BProvider({
          apiKey: e2b.apiKey,
          apiUrl: e2b.url,
          sandboxUrl: e2b.url,
          template: 'base',
          uploads: () => workerUploads(packageRoot),
        }),
      );
    } finally {
      await e2b.close();
    }
  });

  it('runs a spec task in a Daytona sandbox it was uploaded to', async () => {
    const daytona = await startFakeDaytona();
    try {
      await runSpecTask(
        'daytona',
        createDaytonaProvider({
          apiKey: daytona.apiKey,
          apiUrl: daytona.apiUrl,
          uploads: () => workerUploads(packageRoot),
          pollMs: 50,
        }),
      );
    } finally {
      await daytona.close();
    }
  });

  it('runs a spec task in a container of an image laid out like deploy/Dockerfile', async () => {
    // The image keeps the package layout under /opt/omoi; here a folder stands in for it.
    const image = join(root, 'image');
    for (const file of workerUploads(packageRoot)) {
      mkdirSync(dirname(join(image, file.to)), { recursive: true });
      cpSync(file.from, join(image, file.to));
    }
    const [node, bundle, ...args] = WORKER_COMMAND;
    const engine = await startFakeDockerEngine({
      images: { 'omoi-worker:test': [node ?? 'node', join(image, bundle ?? ''), ...args] },
    });
    try {
      await runSpecTask('docker', createDockerProvider({ host: engine.host, image: 'omoi-worker:test' }));
    } finally {
      await engine.close();
    }
  });
});
