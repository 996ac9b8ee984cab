// `omoi project add` credential flags: usage mistakes exit 2 with the usage line, before any
// request (no server runs here).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../e2e-run/support/harness.js';

const run = promisify(execFile);

beforeAll(() => ensureBuilt(), 600_000);

async function omoi(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), OMOIOS_API_URL: 'http://127.0.0.1:9' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('refuses credential flags that do not fit, with exit code 2 and the usage line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'omoi-cli-cred-'));
  await writeFile(
    join(dir, 'key'),
    '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n',
  );
  const cases: [string[], RegExp][] = [
    [['https://h/r.git', '--token-env', 'OMOI_TEST_UNSET_VARIABLE'], /OMOI_TEST_UNSET_VARIABLE is not set/],
    [['https://u:tok@h/r.git', '--token-env', 'PATH'], /already holds a credential/],
    [['https://h/r.git', '--token-env', 'PATH', '--ssh-key', join(dir, 'key')], /not both/],
    [['git@h:r.git', '--ssh-key', join(dir, 'missing')], /no such key file/],
    [['https://h/r.git', '--known-hosts', join(dir, 'key')], /goes with --ssh-key/],
    [['https://h/r.git', '--username', 'bob'], /goes with --token-env/],
  ];
  for (const [args, reason] of cases) {
    const result = await omoi('project', 'add', ...args);
    expect(result.code, args.join(' ')).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toMatch(/omoi project add <path-or-git-url>/);
    expect(result.stderr).not.toContain('tok@');
  }
}, 120_000);
