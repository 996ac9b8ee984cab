import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OUTPUT_TAIL_BYTES,
  parseTestCounts,
  resolveVerifyCommand,
  runVerifyCommand,
  verifyEnv,
} from './verify.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-verify-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function repo(files: Record<string, string>): Promise<string> {
  n += 1;
  const dir = await mkdtemp(join(root, `r${n}-`));
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  return dir;
}

describe('verify command', () => {
  it('prefers the configured command, else detects one by the repository files', async () => {
    expect(await resolveVerifyCommand(await repo({}), ' make check ')).toEqual({
      command: 'make check',
      source: 'settings',
    });
    const cases: [Record<string, string>, string | null][] = [
      [{ 'package.json': JSON.stringify({ scripts: { test: 'vitest run' } }) }, 'npm test'],
      [
        {
          'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }),
        },
        null,
      ],
      [{ 'pyproject.toml': '[tool.pytest.ini_options]\naddopts = "-q"\n' }, 'pytest'],
      [{ 'pyproject.toml': '[project]\nname = "x"\n' }, null],
      [{ 'conftest.py': '' }, 'pytest'],
      [{ 'go.mod': 'module x\n' }, 'go test ./...'],
      [{ 'Cargo.toml': '[package]\n' }, 'cargo test'],
      [{ Makefile: 'build:\n\ttrue\ntest: build\n\ttrue\n' }, 'make test'],
      [{ Makefile: 'build:\n\ttrue\n' }, null],
      [{}, null],
    ];
    for (const [files, command] of cases)
      expect(
        (await resolveVerifyCommand(await repo(files), null))?.command ?? null,
        JSON.stringify(files),
      ).toBe(command);
  });

  it('passes only the allow-listed variables, with CI=1', () => {
    const env = verifyEnv({
      PATH: '/bin',
      HOME: '/h',
      OMOIOS_API_KEY: 'omoi_wt_x',
      ANTHROPIC_API_KEY: 'k',
      OPENAI_API_KEY: 'k',
      TASK_ID: 't',
      REPO_URL: 'r',
    });
    expect(env).toEqual({ CI: '1', PATH: '/bin', HOME: '/h' });
  });

  it('kills the whole process group at the timeout', async () => {
    const dir = await repo({});
    const run = await runVerifyCommand('sh -c "sleep 30; echo late > late.txt" & echo started; wait', {
      cwd: dir,
      timeoutMs: 500,
      env: verifyEnv(process.env),
    });
    expect(run).toMatchObject({ exit_code: null, timed_out: true });
    expect(run.output_tail).toContain('started');
    // The grandchild died with the group: it never writes its file.
    await new Promise((r) => setTimeout(r, 300));
    await expect(readFile(join(dir, 'late.txt'), 'utf8')).rejects.toThrow();
  });

  it('keeps the tail of a long output', async () => {
    const run = await runVerifyCommand('seq 1 20000; echo LAST; exit 2', {
      cwd: await repo({}),
      timeoutMs: 30_000,
      env: verifyEnv(process.env),
    });
    expect(run.exit_code).toBe(2);
    expect(run.output_tail).toMatch(/LAST\n$/);
    expect(run.output_tail).toContain('(output cut)');
    expect(run.output_tail.length).toBeLessThanOrEqual(OUTPUT_TAIL_BYTES + 100);
  });
});

describe('test counts', () => {
  it('reads vitest, jest, pytest, go test and cargo summaries', () => {
    expect(
      parseTestCounts(' Test Files  2 passed (2)\n      Tests  3 passed | 1 failed | 2 skipped (6)\n'),
    ).toEqual({
      passed: 3,
      failed: 1,
      skipped: 2,
    });
    expect(parseTestCounts('Tests:       1 failed, 3 passed, 4 total\n')).toEqual({ passed: 3, failed: 1 });
    expect(parseTestCounts('..F\n===== 2 passed, 1 failed in 0.12s =====\n')).toEqual({
      passed: 2,
      failed: 1,
    });
    expect(
      parseTestCounts('--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\n--- PASS: TestC (0.00s)\nFAIL\n'),
    ).toEqual({
      passed: 2,
      failed: 1,
    });
    expect(
      parseTestCounts(
        'test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured\ntest result: FAILED. 1 passed; 2 failed; 0 ignored;\n',
      ),
    ).toEqual({ passed: 4, failed: 2, skipped: 1 });
    expect(parseTestCounts('all good\n')).toBeUndefined();
  });
});
