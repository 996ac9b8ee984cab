// `npm run bench -- agents-tool-loop`: what the `openai` runtime's own tool loop costs on top of the
// model. A local OpenAI-compatible stand-in answers each turn at once with one `write_file` call, so
// what is measured is our side: streaming parse, argument checks, path confinement, the write and
// the growing history. The baseline, in the same run against the same server, is the least any
// loop must do: one raw fetch per turn with the same history, and a plain fs.writeFile.
// Also: one confined path resolution next to a bare path.resolve.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { createOpenAiRuntime } = await import(join(repo, 'dist/agents/openai.js'));
const { resolveInWorkspace } = await import(join(repo, 'dist/agents/tools/workspace-path.js'));

const TURNS = 40;
const RUNS = 5;
const CONTENT = '# Spec\n\n'.padEnd(4_000, 'x');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Streams one tool call per request until `TURNS` requests of a session, then stops. */
function startServer() {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw);
      const assistantTurns = body.messages.filter((m) => m.role === 'assistant').length;
      const done = assistantTurns >= TURNS - 1;
      const args = JSON.stringify({ path: `specs/file-${assistantTurns}.md`, content: CONTENT });
      const chunk = (delta, finish = null) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (done) {
        res.end(`${chunk({ role: 'assistant', content: 'Done.' })}${chunk({}, 'stop')}data: [DONE]\n\n`);
        return;
      }
      res.end(
        chunk({ role: 'assistant', content: '' }) +
          chunk({
            tool_calls: [
              {
                index: 0,
                id: `call_${assistantTurns}`,
                type: 'function',
                function: { name: 'write_file', arguments: '' },
              },
            ],
          }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] }) +
          chunk({}, 'tool_calls') +
          'data: [DONE]\n\n',
      );
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function runtimeSession(url, workspace) {
  const runtime = createOpenAiRuntime({ OPENAI_BASE_URL: `${url}/v1`, OMOI_MODEL: 'm' }, { maxRetries: 0 });
  const session = runtime.start({
    workspace,
    systemPrompt: 'bench',
    maxTurns: TURNS + 1,
    mode: 'exploration',
  });
  let result;
  for await (const event of session.send('go')) if (event.type === 'result') result = event;
  if (!result?.ok || result.turns !== TURNS) throw new Error(`unexpected result ${JSON.stringify(result)}`);
}

async function rawSession(url, workspace) {
  const messages = [
    { role: 'system', content: 'bench' },
    { role: 'user', content: 'go' },
  ];
  for (let turn = 0; turn < TURNS; turn++) {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
    const text = await response.text();
    const args = text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices[0].delta.tool_calls?.[0]?.function?.arguments ?? '')
      .join('');
    if (!args) break;
    const { path, content } = JSON.parse(args);
    await mkdir(dirname(join(workspace, path)), { recursive: true });
    await writeFile(join(workspace, path), content);
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: `c${turn}`, type: 'function', function: { name: 'write_file', arguments: args } }],
    });
    messages.push({ role: 'tool', tool_call_id: `c${turn}`, content: `Wrote ${path}` });
  }
}

export default async function () {
  const server = await startServer();
  const url = `http://127.0.0.1:${server.address().port}`;
  const base = mkdtempSync(join(tmpdir(), 'omoi-bench-agents-'));
  try {
    const ours = [];
    const raw = [];
    for (let i = 0; i < RUNS; i++) {
      // Interleaved so that machine load hits both alike.
      let ws = join(base, randomUUID());
      await mkdir(ws);
      let t = performance.now();
      await rawSession(url, ws);
      raw.push((performance.now() - t) / TURNS);
      ws = join(base, randomUUID());
      await mkdir(ws);
      t = performance.now();
      await runtimeSession(url, ws);
      ours.push((performance.now() - t) / TURNS);
    }
    const o = median(ours);
    const r = median(raw);
    console.log(
      `openai runtime tool loop: ${o.toFixed(2)} ms per turn (median of ${RUNS} sessions of ${TURNS} turns)`,
    );
    console.log(`raw fetch + writeFile baseline: ${r.toFixed(2)} ms per turn`);
    console.log(
      `ratio runtime / baseline: ${(o / r).toFixed(2)}x (overhead ${(o - r).toFixed(2)} ms per turn)`,
    );

    const ws = join(base, 'paths');
    await mkdir(join(ws, 'a/b'), { recursive: true });
    const N = 5_000;
    let t = performance.now();
    for (let i = 0; i < N; i++) resolve(ws, `a/b/file-${i}.md`);
    const bare = (performance.now() - t) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) await resolveInWorkspace(ws, `a/b/file-${i}.md`);
    const confined = (performance.now() - t) / N;
    console.log(
      `confined path: ${(confined * 1000).toFixed(1)} µs vs path.resolve ${(bare * 1000).toFixed(2)} µs (${(confined / bare).toFixed(0)}x; it stats and realpaths)`,
    );
  } finally {
    server.close();
    rmSync(base, { recursive: true, force: true });
  }
}
