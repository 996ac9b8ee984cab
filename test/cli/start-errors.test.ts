// `omoi start` on a port that is taken: it says which process holds the port and how to pick
// another, exits 1 without a stack trace, and creates no data folder.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortFree, findPortHolder } from '../../src/cli/port-check.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
const scratch = mkdtempSync(join(tmpdir(), 'omoi-start-errors-'));
let holder: Server;
let port = 0;

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
  port = (holder.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((done) => holder.close(done));
  rmSync(scratch, { recursive: true, force: true });
});

describe('a port in use', () => {
  it('finds the process that listens on it', async () => {
    const found = await findPortHolder(port);
    expect(found?.pid).toBe(process.pid);
    expect(found?.command).toMatch(/node|vitest/);
    await expect(assertPortFree('127.0.0.1', port)).rejects.toThrow(
      new RegExp(
        `^port ${port} on 127\\.0\\.0\\.1 is in use by pid ${process.pid} \\(.+\\): .*omoi start --port ${port + 1}`,
      ),
    );
    await expect(assertPortFree('127.0.0.1', 0)).resolves.toBeUndefined();
  });

  it('omoi start names the holder, suggests --port, exits 1 and leaves no data folder', async () => {
    const data = join(scratch, 'data');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [bin, 'start', '--port', String(port), '--data', data, '--no-web'],
        {
          env: { PATH: process.env.PATH, HOME: scratch, OMOI_ORCHESTRATOR: 'false' },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by pid ${process.pid}`),
    );
    expect(result.stderr).toContain(`omoi start --port ${port + 1}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(data)).toBe(false);
  });
});
