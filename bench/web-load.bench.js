// Time until the Command Center's prompt box is usable: Chromium loads /command from a real
// `omoi start` on localhost (temporary data folder), cold cache each time, median of 5 after a warm-up.
// Baseline in the same run: a static page holding just a textarea, from a plain Node HTTP server.
// Both are measured inside the page (performance.now() from navigation start), so the figures
// leave out browser start-up and Playwright's own round trips.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function freePort() {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startOmoi(tmp) {
  const port = await freePort();
  const env = { ...process.env, AGENT_RUNTIME: 'offline' };
  for (const key of Object.keys(env)) if (/^(ANTHROPIC_|OPENAI_|DATABASE_URL$)/.test(key)) delete env[key];
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'omoi.js'), 'start', '--port', String(port), '--data', join(tmp, 'data')],
    { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`omoi start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`omoi start did not become healthy:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) break;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { url, stop };
}

/** ms from navigation start until a visible, enabled textarea exists, in a fresh (cold) context. */
async function timeToPrompt(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(
    () => {
      const box = document.querySelector('textarea');
      return box && !box.disabled && box.offsetParent !== null ? performance.now() : false;
    },
    undefined,
    { polling: 'raf', timeout: 60_000 },
  );
  const ms = await handle.jsonValue();
  await context.close();
  return ms;
}

export default async function () {
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-web-bench-'));
  const blank = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body><textarea></textarea></body></html>',
    );
  });
  const blankUrl = `http://127.0.0.1:${await listen(blank)}/`;
  const omoi = await startOmoi(tmp);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true });
  try {
    const command = `${omoi.url}/command`;
    await timeToPrompt(browser, command); // warm-up: server caches, browser start-up paths
    await timeToPrompt(browser, blankUrl);
    const app = [];
    const base = [];
    for (let i = 0; i < RUNS; i++) {
      // interleaved, so a slow moment of the machine lands on both
      base.push(await timeToPrompt(browser, blankUrl));
      app.push(await timeToPrompt(browser, command));
    }
    const a = median(app);
    const b = median(base);
    const fmt = (values) => values.map((v) => v.toFixed(0)).join(', ');
    process.stdout.write(`/command prompt box usable: median ${a.toFixed(1)} ms (runs: ${fmt(app)})\n`);
    process.stdout.write(
      `static blank page with a textarea (baseline): median ${b.toFixed(1)} ms (runs: ${fmt(base)})\n`,
    );
    process.stdout.write(`ratio /command ÷ blank: ${(a / b).toFixed(2)}x\n`);
  } finally {
    await browser.close();
    await omoi.stop();
    await new Promise((resolve) => blank.close(resolve));
    rmSync(tmp, { recursive: true, force: true });
  }
}
