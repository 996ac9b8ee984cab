// Verification (issue 13): the project's verify command, or one detected from the repository, run
// in the workspace with a clean environment (no token, no model key, nothing of the worker's env
// contract), a timeout that kills the whole process group, and the tail of its output kept.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../agents/tools/run-command.js';
import type { TestCounts } from '../contracts/delivery.js';

/** The most output kept (its tail: a failing test's summary is printed last). */
export const OUTPUT_TAIL_BYTES = 8 * 1024;

/** npm's placeholder test script, which only fails: not a test suite. */
const NPM_DEFAULT_TEST = /no test specified/;

/** The variables a verify command may see; everything else of the worker's environment stays out. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'USER',
  'SHELL',
];

export interface VerifyCommand {
  command: string;
  source: 'settings' | 'detected';
}

async function readText(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** `npm test` when package.json has a real test script. */
async function npmTest(dir: string): Promise<string | null> {
  const text = await readText(join(dir, 'package.json'));
  if (!text) return null;
  try {
    const test = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts?.test;
    return typeof test === 'string' && test.trim() !== '' && !NPM_DEFAULT_TEST.test(test) ? 'npm test' : null;
  } catch {
    return null;
  }
}

async function pytest(dir: string): Promise<string | null> {
  if ((await exists(join(dir, 'pytest.ini'))) || (await exists(join(dir, 'conftest.py')))) return 'pytest';
  const pyproject = await readText(join(dir, 'pyproject.toml'));
  return pyproject && /^\[tool\.pytest[\].]/m.test(pyproject) ? 'pytest' : null;
}

async function byFile(dir: string, file: string, command: string): Promise<string | null> {
  return (await exists(join(dir, file))) ? command : null;
}

async function makeTest(dir: string): Promise<string | null> {
  const makefile = (await readText(join(dir, 'Makefile'))) ?? (await readText(join(dir, 'makefile')));
  return makefile && /^test\s*:/m.test(makefile) ? 'make test' : null;
}

/**
 * The command to verify with: the configured one, else the first the repository's files imply
 * (npm, pytest, go, cargo, make), else null (the run is "unverified").
 */
export async function resolveVerifyCommand(
  dir: string,
  configured: string | null | undefined,
): Promise<VerifyCommand | null> {
  if (configured?.trim()) return { command: configured.trim(), source: 'settings' };
  const detectors = [
    () => npmTest(dir),
    () => pytest(dir),
    () => byFile(dir, 'go.mod', 'go test ./...'),
    () => byFile(dir, 'Cargo.toml', 'cargo test'),
    () => makeTest(dir),
  ];
  for (const detect of detectors) {
    const command = await detect();
    if (command) return { command, source: 'detected' };
  }
  return null;
}

/** The verify command's environment: the allow-list of the worker's, plus CI=1. */
export function verifyEnv(from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { CI: '1' };
  for (const key of PASSED_THROUGH) if (from[key] !== undefined) env[key] = from[key];
  return env;
}

export interface VerifyRun {
  exit_code: number | null;
  duration_ms: number;
  output_tail: string;
  timed_out: boolean;
}

/**
 * Runs `command` with `sh -c` in `cwd` through the agent's own command runner (its process group is
 * killed at the timeout, a test runner's children too); the result is the exit code (null when
 * killed), the duration and the output's tail.
 */
export async function runVerifyCommand(
  command: string,
  options: { cwd: string; timeoutMs: number; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<VerifyRun> {
  const started = Date.now();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  const run = await runCommand(command, {
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    // The runner keeps a head and a tail; the evidence is the tail (failures print last).
    outputCap: OUTPUT_TAIL_BYTES * 2,
    env,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const tail =
    run.output.length > OUTPUT_TAIL_BYTES
      ? `… (output cut)\n${run.output.slice(-OUTPUT_TAIL_BYTES)}`
      : run.output;
  return {
    exit_code: run.timedOut ? null : run.exitCode,
    duration_ms: Date.now() - started,
    output_tail: run.timedOut ? `${tail}\n(stopped after ${options.timeoutMs} ms)` : tail,
    timed_out: run.timedOut,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * Test counts from a runner's summary, where it prints one: vitest/jest (`Tests  3 passed | 1 failed`),
 * pytest (`2 passed, 1 failed`), go test (`--- PASS` / `--- FAIL` lines), cargo (`test result: ok. 3 passed; 0 failed`).
 */
export function parseTestCounts(output: string): TestCounts | undefined {
  const count = (line: string, word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  const counts = (line: string, skippedWords = 'skipped'): TestCounts => {
    const skipped = count(line, skippedWords);
    return {
      passed: count(line, 'passed'),
      failed: count(line, 'failed'),
      ...(skipped ? { skipped } : {}),
    };
  };
  // vitest: " Tests  3 passed | 1 failed (4)"; jest: "Tests:       1 failed, 3 passed, 4 total"
  const vitest = [...output.matchAll(/^\s*Tests:?\s+(.*\d+ (?:passed|failed).*)$/gm)].at(-1);
  if (vitest) return counts(vitest[1]!);
  const cargo = [...output.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/gm)];
  if (cargo.length > 0) {
    const skipped = sum(cargo.map((m) => Number(m[3])));
    return {
      passed: sum(cargo.map((m) => Number(m[1]))),
      failed: sum(cargo.map((m) => Number(m[2]))),
      ...(skipped ? { skipped } : {}),
    };
  }
  // pytest's last line: "==== 2 passed, 1 failed in 0.12s ===="
  const pytest = [...output.matchAll(/^=+ (.*\d+ (?:passed|failed).*) in [\d.]+s.*=+$/gm)].at(-1);
  if (pytest) return counts(pytest[1]!);
  const goPass = (output.match(/^\s*--- PASS: /gm) ?? []).length;
  const goFail = (output.match(/^\s*--- FAIL: /gm) ?? []).length;
  const goSkip = (output.match(/^\s*--- SKIP: /gm) ?? []).length;
  if (goPass + goFail > 0) return { passed: goPass, failed: goFail, ...(goSkip ? { skipped: goSkip } : {}) };
  return undefined;
}
