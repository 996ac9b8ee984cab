// The platform's added cost per task for delivery (issue 13): stacking (fetch and merge every
// dependency branch), the commit with its trailers, verification and the push, through the worker's
// real delivery loop (runWorker, the scripted runtime writing one file, verify command `true`),
// without the agent's turn and the verify command's own time. The worker's start (runtime, task
// fetch, prompt) is counted too: it is part of what a task costs beyond git. Baseline in the same run, interleaved:
// the bare git commands that loop performs (fetch + merge --no-ff per dependency, add, commit,
// push), so the ratio is what the platform adds on top of git. Goal: ≤ 1 s median per task.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, median, quantile, root } from './run-helpers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** Dependencies per task: a diamond's join task merges two. */
const DEPENDENCIES = 2;

const { parseWorkerEnv } = await import(join(root, 'dist', 'contracts', 'worker-env.js'));
const { cloneAndCheckout } = await import(join(root, 'dist', 'git', 'git.js'));
const { runWorker } = await import(join(root, 'dist', 'worker', 'run.js'));

const IDENTITY = ['-c', 'user.name=b', '-c', 'user.email=b@b'];
/** The worker's environment contract, the same for every run (the API is never called: `api` below). */
const WORKER_ENV = {
  OMOIOS_API_URL: 'http://127.0.0.1:9',
  OMOIOS_API_KEY: 'bench-token',
  OMOIOS_PROJECT_ID: 'p1',
  EXECUTION_MODE: 'implementation',
  AGENT_RUNTIME: 'scripted',
};

/** A bare repository with one commit on main, and a work clone to push dependency branches from. */
function setUp() {
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-bench-delivery-'));
  const remote = join(tmp, 'remote.git');
  git(tmp, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const seed = join(tmp, 'seed');
  git(tmp, 'clone', '--quiet', remote, seed);
  writeFileSync(join(seed, 'README.md'), '# bench\n');
  git(seed, 'add', '.');
  git(seed, ...IDENTITY, 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  return { tmp, remote, seed };
}

/** Pushes `count` dependency branches off main, one file each; their names. */
function pushDependencies(seed, prefix, count) {
  const names = [];
  for (let d = 0; d < count; d += 1) {
    const branch = `${prefix}-dep-${d}`;
    git(seed, 'checkout', '--quiet', '--detach', 'origin/main');
    writeFileSync(join(seed, `${branch}.txt`), `${branch}\n`);
    git(seed, 'add', '.');
    git(seed, ...IDENTITY, 'commit', '--quiet', '-m', branch);
    git(seed, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    names.push(branch);
  }
  return names;
}

/** One task through the worker; the platform's part of its wall time (agent and verify taken out). */
async function platformOnce(tmp, remote, seed, i) {
  const deps = pushDependencies(seed, `p${i}`, DEPENDENCIES);
  const workBranch = `p${i}-task`;
  const script = join(tmp, `script-${i}.json`);
  writeFileSync(script, JSON.stringify({ turns: [{ write: { [`p${i}-task.txt`]: 'done\n' } }] }));
  const cwd = join(tmp, `ws-${i}`);
  await cloneAndCheckout({ repoUrl: remote, dir: cwd, baseBranch: 'main', workBranch });
  const brief = {
    kind: 'task',
    merge: deps.map((branch) => ({ task_id: `id-${branch}`, spec_task_id: null, branch })),
    verify_command: 'true',
    spec_task_id: `TSK-BENCH-${String(i).padStart(3, '0')}`,
    requirements: ['REQ-BENCH-001'],
  };
  const task = {
    id: `id-${i}`,
    title: `Task ${i}`,
    description: 'Write a file.',
    project_id: 'p1',
    ticket_id: 't1',
    spec_task_id: brief.spec_task_id,
    delivery: brief,
    ticket: { id: 't1', ref: 'TKT-001', title: 'Bench', description: 'Bench.' },
  };
  const api = {
    getTask: async () => task,
    postEvent: async () => {},
    syncSpecs: async () => ({ created: 0, updated: 0, unchanged: 0 }),
  };
  const parsed = parseWorkerEnv({
    ...WORKER_ENV,
    TASK_ID: task.id,
    OMOI_TEST_RUNTIME_SCRIPT: script,
    REPO_URL: remote,
    WORK_BRANCH: workBranch,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const started = performance.now();
  const outcome = await runWorker(parsed.config, {
    api,
    cwd,
    log: () => {},
    signal: new AbortController().signal,
  });
  const wall = performance.now() - started;
  if (!outcome.ok) throw new Error(`the run failed: ${outcome.error}`);
  // Measured only if it did the whole job: both merges, a verified commit with its trailers, pushed.
  if (outcome.merged?.length !== DEPENDENCIES || outcome.verification?.passed !== true)
    throw new Error(`the run skipped a step: ${JSON.stringify(outcome)}`);
  if (
    !git(remote, 'log', '-1', '--format=%(trailers)', workBranch).includes(`Omoi-Task: ${brief.spec_task_id}`)
  )
    throw new Error('the pushed commit has no Omoi-Task trailer');
  rmSync(cwd, { recursive: true, force: true });
  // The agent's turn needs no subtraction: the scripted runtime writes one file in-process (well
  // under a millisecond). The verify command's own time is the worker's measure of it.
  const verifyMs = outcome.verification.duration_ms;
  return { ms: wall - verifyMs, wall, verifyMs };
}

/** The same git work by hand: fetch + merge per dependency, the file, add, commit, push. */
function bareOnce(tmp, remote, seed, i) {
  const deps = pushDependencies(seed, `b${i}`, DEPENDENCIES);
  const dir = join(tmp, `bare-${i}`);
  git(tmp, 'clone', '--quiet', remote, dir);
  const started = performance.now();
  for (const branch of deps) {
    git(dir, 'fetch', '--quiet', 'origin', `refs/heads/${branch}:refs/remotes/origin/${branch}`);
    git(dir, ...IDENTITY, 'merge', '--quiet', '--no-ff', '-m', `Merge ${branch}`, `origin/${branch}`);
  }
  writeFileSync(join(dir, `b${i}-task.txt`), 'done\n');
  git(dir, 'add', '-A');
  git(dir, ...IDENTITY, 'commit', '--quiet', '-m', `feat: task ${i}`);
  git(dir, 'push', '--quiet', 'origin', `HEAD:refs/heads/b${i}-task`);
  const ms = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const fmt = (ms) => `${ms.toFixed(0)} ms`;

export default async function () {
  const { tmp, remote, seed } = setUp();
  try {
    // One warm-up of each, not counted (module loading, git's first start).
    await platformOnce(tmp, remote, seed, 'warm');
    bareOnce(tmp, remote, seed, 'warm');
    const platform = [];
    const bare = [];
    for (let i = 0; i < RUNS; i += 1) {
      platform.push(await platformOnce(tmp, remote, seed, i));
      bare.push(bareOnce(tmp, remote, seed, i));
    }
    const cost = platform.map((p) => p.ms);
    const costMedian = median(cost);
    const bareMedian = median(bare);
    console.log(`delivery per task (${RUNS} runs, ${DEPENDENCIES} dependencies merged each)`);
    console.log(
      `  worker wall time          median ${fmt(median(platform.map((p) => p.wall)))}` +
        ` (verify command ${fmt(median(platform.map((p) => p.verifyMs)))}, scripted agent < 1 ms)`,
    );
    console.log(
      `  platform cost             median ${fmt(costMedian)}, p90 ${fmt(quantile(cost, 0.9))} (goal ≤ 1000 ms)`,
    );
    console.log(`  bare git (same steps)     median ${fmt(bareMedian)}, p90 ${fmt(quantile(bare, 0.9))}`);
    console.log(`  ratio platform / bare git ${(costMedian / bareMedian).toFixed(2)}`);
    console.log(`  goal ${costMedian <= 1000 ? 'met' : 'NOT met'}: ${fmt(costMedian)} median per task`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
