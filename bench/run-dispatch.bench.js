// Dispatch latency: from `POST /tickets` returning to the worker process starting (the local
// provider's "worker process started" line), p50 and p95 over 50 spec_driven tickets run one after
// another at random moments, with NOTIFY wake-up and, in the same run, with NOTIFY turned off (polling only, every
// OMOI_POLL_MS = 1000 ms).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { followProject, makeRemote, quantile, startOmoi } from './run-helpers.js';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 50);

async function measure(tmp, remote, name, env) {
  const server = await startOmoi(tmp, name, { OMOI_POLL_MS: '1000', ...env });
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
      // Outside the product, interleaved: what starting any Node process costs here right now.
      const spawned = performance.now();
      spawnSync(process.execPath, ['-e', '']);
      bare.push(performance.now() - spawned);
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
    const polling = await measure(tmp, remote, 'polling', { OMOI_DISABLE_NOTIFY: 'true' });
    const row = (label, values) =>
      `  ${label.padEnd(34)} p50 ${quantile(values, 0.5).toFixed(0).padStart(5)} ms   p95 ${quantile(values, 0.95).toFixed(0).padStart(5)} ms`;
    console.log(
      `dispatch latency, POST /tickets returned → worker process started (clone included), ${TICKETS} tickets`,
    );
    console.log(row('NOTIFY wake-up', notify.latencies));
    console.log(row('polling only (OMOI_POLL_MS=1000)', polling.latencies));
    const ratio = (a, b) =>
      `p50 ${(quantile(a, 0.5) / quantile(b, 0.5)).toFixed(2)}, p95 ${(quantile(a, 0.95) / quantile(b, 0.95)).toFixed(2)}`;
    console.log(`  ratio NOTIFY / polling: ${ratio(notify.latencies, polling.latencies)}`);
    console.log('of which POST /tickets returned → task.claimed event received:');
    console.log(row('NOTIFY wake-up', notify.claims));
    console.log(row('polling only (OMOI_POLL_MS=1000)', polling.claims));
    console.log(`  ratio NOTIFY / polling: ${ratio(notify.claims, polling.claims)}`);
    console.log(row('a bare `node -e ""` spawn (interleaved)', notify.bare));
    return {
      p50: quantile(notify.latencies, 0.5),
      p95: quantile(notify.latencies, 0.95),
      bareSpawnMs: quantile(notify.bare, 0.5),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
