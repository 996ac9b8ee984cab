// Dispatch latency: from `POST /tickets` returning to the worker process starting (the local
// provider's "worker process started" line), p50 and p95 over 50 spec_driven tickets run one after
// another at random moments (NOTIFY wakes the orchestrator). The baseline, outside the product and
// interleaved ticket by ticket: the bare steps a dispatch cannot skip, a `git clone` of the same
// repository into a new folder plus starting a `node -e ""` process.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { followProject, makeRemote, quantile, startOmoi } from './run-helpers.js';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 50);

async function measure(tmp, remote, name, env) {
  const server = await startOmoi(tmp, name, env);
  try {
    const project = await server.api('POST', '/projects', { name, repo_url: remote });
    const events = await followProject(server.url, project.id);
    const latencies = [];
    const claims = [];
    const bare = [];
    for (let i = 0; i < TICKETS; i += 1) {
      // Tickets arrive at random moments, not in step with the orchestrator's poll.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      const { task } = await server.api('POST', '/tickets', {
        project_id: project.id,
        description: `Bench ticket ${i}: export reports as CSV.`,
        workflow_mode: 'spec_driven',
      });
      const posted = performance.now();
      const claimed = await events.waitFor((e) => e.task_id === task.id && e.type === 'task.claimed');
      claims.push(claimed.receivedAt - posted);
      const started = await events.waitFor(
        (e) =>
          e.task_id === task.id && e.type === 'sandbox.log' && /worker process started/.test(e.data.text),
      );
      latencies.push(started.receivedAt - posted);
      await events.waitFor(
        (e) => e.task_id === task.id && (e.type === 'task.completed' || e.type === 'task.failed'),
      );
      // Outside the product, interleaved: a clone of the same repository and a Node process start.
      const cloned = performance.now();
      const dir = join(tmp, `bare-${name}-${i}`);
      spawnSync('git', ['clone', '--quiet', remote, dir]);
      const spawned = performance.now();
      spawnSync(process.execPath, ['-e', '']);
      bare.push({ total: performance.now() - cloned, spawn: performance.now() - spawned });
      rmSync(dir, { recursive: true, force: true });
    }
    events.close();
    return { latencies, claims, bare };
  } finally {
    await server.stop();
  }
}

export default async function () {
  const { tmp, remote } = makeRemote();
  try {
    const notify = await measure(tmp, remote, 'notify', {});
    const row = (label, values) =>
      `  ${label.padEnd(44)} p50 ${quantile(values, 0.5).toFixed(0).padStart(5)} ms   p95 ${quantile(values, 0.95).toFixed(0).padStart(5)} ms`;
    const bareTotal = notify.bare.map((b) => b.total);
    console.log(`dispatch latency, ${TICKETS} tickets one after another (local sandbox, offline runtime)`);
    console.log(row('POST /tickets returned → worker process started', notify.latencies));
    console.log(row('  of which → task.claimed event received', notify.claims));
    console.log(row('bare: git clone + `node -e ""` (interleaved)', bareTotal));
    console.log(
      row(
        '  of which the `node -e ""` spawn',
        notify.bare.map((b) => b.spawn),
      ),
    );
    console.log(
      `  ratio dispatch / bare steps: p50 ${(quantile(notify.latencies, 0.5) / quantile(bareTotal, 0.5)).toFixed(2)}`,
    );
    return {
      p50: quantile(notify.latencies, 0.5),
      p95: quantile(notify.latencies, 0.95),
      claimP50: quantile(notify.claims, 0.5),
      bareMs: quantile(bareTotal, 0.5),
      bareSpawnMs: quantile(
        notify.bare.map((b) => b.spawn),
        0.5,
      ),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
