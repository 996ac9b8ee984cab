// `omoi key create|list|revoke` through the built binary, on an embedded database in a temp folder
// (finding 6: keys could not be listed with their state or revoked from the command line).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
let data: string;

function omoi(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
    delete env.DATABASE_URL;
    execFile(
      process.execPath,
      [bin, ...args, ...(args.length > 1 ? ['--data', data] : [])],
      { env, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({
          exitCode: error && typeof error.code === 'number' ? error.code : error ? -1 : 0,
          stdout,
          stderr,
        }),
    );
  });
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
  data = mkdtempSync(join(tmpdir(), 'omoi-key-cli-'));
}, 600_000);
afterAll(() => rmSync(data, { recursive: true, force: true }));

it('creates keys with a role and an expiry, lists them with their state, revokes by prefix', async () => {
  const created = await omoi([
    'key',
    'create',
    '--name',
    'ci',
    '--role',
    'member',
    '--expires',
    '30d',
    '--json',
  ]);
  expect(created.exitCode, created.stderr).toBe(0);
  const key = JSON.parse(created.stdout) as {
    key: string;
    prefix: string;
    id: string;
    role: string;
    expires_at: string;
  };
  expect(key.role).toBe('member');
  expect(key.key.startsWith(key.prefix)).toBe(true);
  expect(new Date(key.expires_at).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

  const listed = await omoi(['key', 'list']);
  expect(listed.exitCode, listed.stderr).toBe(0);
  expect(listed.stdout).toContain(key.prefix);
  expect(listed.stdout).toContain('member');
  expect(listed.stdout).toContain('last used never');
  expect(listed.stdout).not.toContain(key.key);

  const revoked = await omoi(['key', 'revoke', key.prefix]);
  expect(revoked.exitCode, revoked.stderr).toBe(0);
  expect(revoked.stdout).toContain('revoked');
  const after = JSON.parse((await omoi(['key', 'list', '--json'])).stdout) as {
    id: string;
    revoked_at: string | null;
  }[];
  expect(after.find((k) => k.id === key.id)?.revoked_at).not.toBeNull();
  const again = await omoi(['key', 'revoke', key.id]);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain('NOT_FOUND');
}, 180_000);

it('exits 2 with a usage line for a bad role, a bad duration or no key to revoke', async () => {
  for (const args of [
    ['key', 'create', '--role', 'root'],
    ['key', 'create', '--expires', 'soon'],
    ['key', 'revoke'],
  ]) {
    const result = await omoi(args);
    expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    expect(result.stderr).toMatch(/usage: omoi key/);
  }
}, 180_000);
