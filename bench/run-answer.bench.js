// `npm run bench -- run-answer`: how fast an answer brings a parked agent back (issue 15), and what
// parked tasks cost. `omoi start` runs the `openai` runtime against a local OpenAI-compatible
// stand-in (real HTTP) whose agent asks with `ask_user` on its first turn, and after the answer
// writes one file and stops.
//
//  - answer POST → the agent's next request at the model server: the run is claimed again, a new
//    sandbox cloned, the conversation restored. Baseline, interleaved ticket by ticket in the same
//    run: ticket POST → that ticket's first model request (the same path without a conversation).
//  - idle cost: 50 tasks parked at once hold no sandbox workspace and no worker process.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { followProject, makeRemote, quantile, startOmoi } from './run-helpers.js';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 15);
const PARKED = Number(process.env.BENCH_PARKED ?? 50);

/** One SSE chunk of a chat completion. */
const chunk = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** The stand-in model: asks first, writes a file once answered, then stops. Records arrival times. */
function startModel() {
  const arrivals = new Map(); // ticket marker → [performance.now() of each request]
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const request = JSON.parse(body);
      const text = request.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
      const marker = /bench-(\d+)/.exec(text)?.[0] ?? 'unknown';
      const times = arrivals.get(marker) ?? [];
      times.push(performance.now());
      arrivals.set(marker, times);
      const answered = request.messages.some((m) => m.role === 'tool' && /answer-/.test(String(m.content)));
      const wrote = request.messages.some(
        (m) => m.role === 'tool' && /wrote|Wrote|bytes/.test(String(m.content)),
      );
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const call = (name, args) =>
        chunk({
          tool_calls: [
            {
              index: 0,
              id: `call_${name}`,
              type: 'function',
              function: { name, arguments: JSON.stringify(args) },
            },
          ],
        });
      if (!answered) {
        res.write(chunk({ role: 'assistant' }));
        res.write(
          call('ask_user', {
            question: `Which format for ${marker}?`,
            options: ['CSV', 'JSON'],
            why: 'bench',
          }),
        );
        res.write(chunk({}, 'tool_calls'));
      } else if (!wrote) {
        res.write(chunk({ role: 'assistant' }));
        res.write(call('write_file', { path: `${marker}.txt`, content: 'done\n' }));
        res.write(chunk({}, 'tool_calls'));
      } else {
        res.write(chunk({ role: 'assistant', content: 'Done.' }));
        res.write(chunk({}, 'stop'));
      }
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        arrivals,
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/**
 * Sandbox workspaces of the data folder right now: in `<data>/workspaces`, or — when that folder is
 * closed to the sandbox user — in the local provider's fallback under /var/tmp (src/sandbox/local.ts).
 */
function workspaces(data) {
  const digest = createHash('sha256').update(resolve(data)).digest('hex').slice(0, 12);
  const roots = [join(data, 'workspaces'), join('/var/tmp', `omoi-sandboxes-${digest}`)].filter((d) =>
    existsSync(d),
  );
  if (roots.length === 0) throw new Error(`no sandbox workspace folder for ${data}`);
  return roots.reduce((n, root) => n + readdirSync(root).length, 0);
}

/** Worker processes running now (the local provider starts `omoi.js worker`, inside bwrap or not). */
function workerProcesses() {
  try {
    return execFileSync('pgrep', ['-f', 'omoi.js worker'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}

async function waitUntil(check, what, timeoutMs = 120_000) {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export default async function () {
  const { tmp, remote } = makeRemote();
  const model = await startModel();
  const server = await startOmoi(tmp, 'answer', {
    AGENT_RUNTIME: 'openai',
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'sk-bench',
    OMOI_MODEL: 'bench-model',
  });
  try {
    const project = await server.api('POST', '/projects', {
      name: 'answer',
      repo_url: remote,
      settings: { concurrency_limit: 8 },
    });
    const events = await followProject(server.url, project.id);
    const first = [];
    const resumed = [];
    const released = [];
    for (let i = 0; i < TICKETS; i += 1) {
      const marker = `bench-${i}`;
      const posted = performance.now();
      const { task } = await server.api('POST', '/tickets', {
        project_id: project.id,
        description: `Export reports (${marker}).`,
        workflow_mode: 'quick',
      });
      await waitUntil(() => (model.arrivals.get(marker)?.length ?? 0) >= 1, `${marker}'s first request`);
      first.push(model.arrivals.get(marker)[0] - posted);
      const asked = await events.waitFor((e) => e.task_id === task.id && e.type === 'agent.question');
      // The sandbox is gone before the answer comes (as it is for a person, who answers later).
      await waitUntil(
        () => workspaces(join(tmp, 'answer')) === 0 && workerProcesses() === 0,
        'the sandbox to be removed',
      );
      released.push(performance.now() - asked.receivedAt);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
      const answeredAt = performance.now();
      await server.api('POST', `/tasks/${task.id}/answer`, { answer: `answer-${i}: CSV` });
      await waitUntil(() => model.arrivals.get(marker).length >= 2, `${marker}'s resumed request`);
      resumed.push(model.arrivals.get(marker)[1] - answeredAt);
      await events.waitFor(
        (e) => e.task_id === task.id && (e.type === 'task.completed' || e.type === 'task.failed'),
      );
    }

    // Idle cost: many parked tasks at once.
    const parkedTasks = [];
    for (let i = 0; i < PARKED; i += 1) {
      const { task } = await server.api('POST', '/tickets', {
        project_id: project.id,
        description: `Parked (bench-${1000 + i}).`,
        workflow_mode: 'quick',
      });
      parkedTasks.push(task.id);
    }
    await waitUntil(
      async () =>
        (await server.api('GET', `/questions?status=open&project_id=${project.id}`)).questions.length ===
        PARKED,
      `${PARKED} open questions`,
      600_000,
    );
    await waitUntil(
      () => workspaces(join(tmp, 'answer')) === 0 && workerProcesses() === 0,
      'every sandbox of the parked tasks to be gone',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const idle = {
      sandboxes: workspaces(join(tmp, 'answer')),
      processes: workerProcesses(),
      statuses: new Set(
        await Promise.all(parkedTasks.map(async (id) => (await server.api('GET', `/tasks/${id}`)).status)),
      ),
    };
    events.close();

    const p50 = quantile(resumed, 0.5);
    const base = quantile(first, 0.5);
    console.log(`answer → next model request, ${TICKETS} tickets (local provider, openai runtime)`);
    console.log(
      `  answer POST → resumed request   p50 ${p50.toFixed(0)} ms   p95 ${quantile(resumed, 0.95).toFixed(0)} ms`,
    );
    console.log(`  ticket POST → first request     p50 ${base.toFixed(0)} ms   (baseline, interleaved)`);
    console.log(`  ratio resumed / first           ${(p50 / base).toFixed(2)}×`);
    console.log(
      `  question → sandbox removed      p50 ${quantile(released, 0.5).toFixed(0)} ms   max ${Math.max(...released).toFixed(0)} ms`,
    );
    console.log(
      `idle: ${PARKED} tasks ${[...idle.statuses].join('/')}: ${idle.sandboxes} sandbox workspaces, ${idle.processes} worker processes`,
    );
    return {
      p50,
      p95: quantile(resumed, 0.95),
      baseMs: base,
      releasedMaxMs: Math.max(...released),
      ratio: p50 / base,
      parked: PARKED,
      ...idle,
      statuses: [...idle.statuses],
    };
  } finally {
    await server.stop();
    await model.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
