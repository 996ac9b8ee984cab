// Platform overhead per spec run with the offline runtime (no model time at all): median over 20
// runs of each step, from the events' own timestamps. Baseline in the same run: the bare commands
// those steps wrap (git clone, `node -e ""`, git commit + push), so the ratio is what the platform
// adds on top of git and a process start.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { followProject, git, makeRemote, median, startOmoi } from './run-helpers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

const STEPS = [
  ['claim → sandbox created (token, env)', 'task.claimed', 'sandbox.spawned'],
  ['clone + checkout', 'sandbox.spawned', 'worker process started'],
  ['worker start (node, bwrap, runtime)', 'worker process started', 'worker.started'],
  ['fetch task + inject skill', 'worker.started', 'skill.injected'],
  ['agent (offline) + validate', 'skill.injected', 'spec.validation'],
  ['commit + push', 'spec.validation', 'git.pushed'],
  ['sync through the API', 'git.pushed', 'spec.synced'],
  ['worker exit → task completed', 'spec.synced', 'task.completed'],
];

function baselineOnce(tmp, remote, i) {
  const started = performance.now();
  const dir = join(tmp, `baseline-${i}`);
  git(tmp, 'clone', '--quiet', remote, dir);
  execFileSync(process.execPath, ['-e', '']);
  writeFileSync(join(dir, `b${i}.md`), 'x\n');
  git(dir, 'add', '.');
  git(dir, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '--quiet', '-m', 'b');
  git(dir, 'push', '--quiet', 'origin', `HEAD:refs/heads/baseline-${i}`);
  rmSync(dir, { recursive: true, force: true });
  return performance.now() - started;
}

export default async function () {
  const { tmp, remote } = makeRemote();
  const server = await startOmoi(tmp, 'data');
  try {
    const project = await server.api('POST', '/projects', { name: 'overhead', repo_url: remote });
    const events = await followProject(server.url, project.id);
    const perStep = STEPS.map(() => []);
    const totals = [];
    const baseline = [];
    // Each spec run is followed by the bare steps, so a neighbour's load falls on both alike.
    for (let i = 0; i < RUNS; i += 1) {
      const { task } = await server.api('POST', '/tickets', {
        project_id: project.id,
        description: `Overhead run ${i}: users can export reports as CSV.`,
        workflow_mode: 'spec_driven',
      });
      await events.waitFor(
        (e) => e.task_id === task.id && (e.type === 'task.completed' || e.type === 'task.failed'),
      );
      const mine = events.seen.filter((e) => e.task_id === task.id);
      const at = (marker) => {
        const e = mine.find(
          (x) => x.type === marker || (x.type === 'sandbox.log' && String(x.data.text).startsWith(marker)),
        );
        if (!e) throw new Error(`run ${i}: no ${marker} event (${mine.map((x) => x.type).join(', ')})`);
        return Date.parse(e.ts);
      };
      for (const [s, [, from, to]] of STEPS.entries()) perStep[s].push(at(to) - at(from));
      totals.push(at('task.completed') - at('task.claimed'));
      baseline.push(baselineOnce(tmp, remote, i));
    }
    events.close();

    console.log(`platform overhead per spec run, offline runtime, median of ${RUNS} runs (event timestamps)`);
    for (const [s, [label]] of STEPS.entries()) {
      console.log(`  ${label.padEnd(40)} ${median(perStep[s]).toFixed(0).padStart(6)} ms`);
    }
    console.log(`  ${'total: claimed → completed'.padEnd(40)} ${median(totals).toFixed(0).padStart(6)} ms`);
    console.log(
      `  ${'baseline: git clone + node -e "" + commit + push'.padEnd(40)} ${median(baseline).toFixed(0).padStart(6)} ms`,
    );
    console.log(`  ratio total / baseline: ${(median(totals) / median(baseline)).toFixed(2)}`);
    return {
      totalMs: median(totals),
      baselineMs: median(baseline),
      ratio: median(totals) / median(baseline),
    };
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
