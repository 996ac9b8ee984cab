import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxLogLine, SandboxProvider } from '../../src/sandbox/provider.js';

/** The script every provider runs in place of `omoi worker` (see fixtures/contract-worker.mjs). */
export const CONTRACT_WORKER = fileURLToPath(new URL('./fixtures/contract-worker.mjs', import.meta.url));

/** What a provider's test file hands the suite. */
export interface ContractTarget {
  provider: SandboxProvider;
  /** Sandbox ids the service (or host) still holds, read from the fake's side, not the provider's. */
  leftovers(): Promise<string[]>;
  /**
   * Makes the service refuse the next sandbox creation the way it refuses a bad key (`auth`) or a
   * spent quota (`quota`); returns the words the failure reason must contain.
   */
  refuseNextCreate?(kind: 'auth' | 'quota'): RegExp;
  /** Variables the provider needs to differ from the suite's defaults (a reachable REPO_URL for `local`). */
  envOverrides?: Record<string, string>;
  /**
   * Credential variables the provider keeps out of the sandbox, handing it a placeholder instead
   * (`local` relays the API with the task token added outside): their values must NOT be seen.
   */
  relayedCredentials?: string[];
  close(): Promise<void>;
}

/** A variable of the server's own environment that must never reach a sandbox. */
const SERVER_SECRET = 'OMOI_CONTRACT_SERVER_SECRET';

export function contractEnv(
  mode: 'succeed' | 'fail' | 'hang',
  taskId: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    OMOIOS_API_URL: 'http://127.0.0.1:9/api/v1',
    OMOIOS_API_KEY: `omoi_wk_${taskId}`,
    OMOIOS_PROJECT_ID: 'prj_contract',
    TASK_ID: taskId,
    SANDBOX_ID: `sbx_${taskId}`,
    EXECUTION_MODE: 'exploration',
    REQUIRE_SPEC_SKILL: 'true',
    SELECTED_SKILL: 'spec-driven-dev',
    AGENT_RUNTIME: 'offline',
    REPO_URL: 'https://git.example.com/team/repo.git',
    BASE_BRANCH: 'main',
    WORK_BRANCH: `omoi/${taskId}`,
    MAX_TURNS: '10',
    SPEC_MAX_ATTEMPTS: '3',
    CONTRACT_MODE: mode,
    // Quotes, spaces and a `$`: a provider that pastes env into a shell line would mangle it.
    CONTRACT_TRICKY: `it's "quoted" $HOME; echo no`,
    ...overrides,
  };
}

/** Reads a sandbox's log into an array as it arrives. */
function collect(sandbox: Sandbox): { lines: SandboxLogLine[]; done: Promise<void> } {
  const lines: SandboxLogLine[] = [];
  const done = (async () => {
    for await (const line of sandbox.logs()) lines.push(line);
  })();
  return { lines, done };
}

/** Polls until `check` holds; generous, because the machine running CI is loaded. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function printedEnv(lines: SandboxLogLine[]): Record<string, string> {
  const line = lines.find((entry) => entry.text.startsWith('ENV '));
  expect(line, 'the worker printed its environment').toBeDefined();
  return JSON.parse(line?.text.slice(4) ?? '{}') as Record<string, string>;
}

/**
 * The one suite every sandbox provider passes: create with the env contract, run the worker to
 * completion, stream logs in order, cancel mid-run, clean up after success, failure and cancel,
 * find and remove leftovers for the reaper, and report a service failure clearly.
 */
export function describeProviderContract(label: string, setup: () => Promise<ContractTarget>): void {
  describe(`sandbox provider contract: ${label}`, () => {
    let target: ContractTarget;
    let counter = 0;
    const taskId = () => `tsk_contract_${process.pid}_${++counter}`;
    const env = (mode: 'succeed' | 'fail' | 'hang', id: string) => contractEnv(mode, id, target.envOverrides);

    beforeAll(async () => {
      process.env[SERVER_SECRET] = 'must-not-leak';
      target = await setup();
    });
    afterAll(async () => {
      delete process.env[SERVER_SECRET];
      await target?.close();
    });

    it('says it is available', async () => {
      expect(await target.provider.availability()).toEqual({ available: true });
    });

    it('runs the worker to completion with exactly the env contract, logs in order, then cleans up', async () => {
      const id = taskId();
      const given = env('succeed', id);
      const sandbox = await target.provider.create({
        taskId: id,
        env: given,
        resources: { cpus: 1, memoryMb: 512 },
      });
      expect(sandbox.provider).toBe(target.provider.name);
      const log = collect(sandbox);
      const exit = await sandbox.wait();
      await log.done;
      expect(exit.exitCode).toBe(0);
      expect(exit.error).toBeUndefined();

      const seen = printedEnv(log.lines);
      for (const [key, value] of Object.entries(given)) {
        if (target.relayedCredentials?.includes(key)) expect(seen[key], key).not.toBe(value);
        else expect(seen[key], key).toBe(value);
      }
      expect(seen[SERVER_SECRET]).toBeUndefined();

      const numbered = log.lines.filter((l) => /^line \d+$/.test(l.text));
      expect(numbered.map((l) => l.text)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
      expect(numbered.every((l) => l.stream === 'stdout')).toBe(true);
      expect(log.lines).toContainEqual(
        expect.objectContaining({ stream: 'stderr', text: 'warning from stderr' }),
      );
      expect(log.lines.at(-1)?.text).toBe('done without newline');

      // A reader that comes after the end still gets the whole log from the start.
      const replay: string[] = [];
      for await (const line of sandbox.logs()) replay.push(line.text);
      expect(replay).toEqual(log.lines.map((l) => l.text));
      expect(await sandbox.wait()).toEqual(exit);

      expect(await target.leftovers()).toContain(sandbox.id);
      await sandbox.destroy();
      expect(await target.leftovers()).not.toContain(sandbox.id);
      await sandbox.destroy();
    });

    it('reports a failing worker by its exit code and cleans up after it', async () => {
      const id = taskId();
      const sandbox = await target.provider.create({ taskId: id, env: env('fail', id) });
      const log = collect(sandbox);
      const exit = await sandbox.wait();
      await log.done;
      expect(exit.exitCode).toBe(3);
      expect(log.lines.map((l) => l.text)).toContain('about to fail');
      await sandbox.destroy();
      expect(await target.leftovers()).not.toContain(sandbox.id);
    });

    it('keeps a failed sandbox when asked to, until it is removed by id', async () => {
      const id = taskId();
      const sandbox = await target.provider.create({ taskId: id, env: env('fail', id), keepOnFailure: true });
      expect((await sandbox.wait()).exitCode).toBe(3);
      await sandbox.destroy();
      expect(await target.leftovers()).toContain(sandbox.id);
      await target.provider.destroyById?.(sandbox.id);
      expect(await target.leftovers()).not.toContain(sandbox.id);
    });

    it('cancels a running worker, ends its log and wait, and cleans up', async () => {
      const id = taskId();
      const sandbox = await target.provider.create({ taskId: id, env: env('hang', id) });
      const log = collect(sandbox);
      await eventually(() => log.lines.some((l) => l.text === 'ready'), 'the worker to start');
      await sandbox.cancel();
      const exit = await sandbox.wait();
      await log.done;
      expect(exit.exitCode).not.toBe(0);
      await sandbox.cancel();
      await sandbox.destroy();
      expect(await target.leftovers()).not.toContain(sandbox.id);
      await sandbox.destroy();
    });

    it('lists what it holds and removes a sandbox left behind by a crashed orchestrator', async () => {
      const id = taskId();
      const orphan = await target.provider.create({ taskId: id, env: env('hang', id) });
      expect(target.provider.list).toBeDefined();
      expect(target.provider.destroyById).toBeDefined();
      expect(await target.provider.list?.()).toContain(orphan.id);
      // The orchestrator that created it is gone: only the id is known now.
      await target.provider.destroyById?.(orphan.id);
      expect(await target.leftovers()).not.toContain(orphan.id);
      expect(await target.provider.list?.()).not.toContain(orphan.id);
      await target.provider.destroyById?.(orphan.id);
      await orphan.wait();
    });

    it('reports a refused key and a spent quota as clear failures', async (context) => {
      if (!target.refuseNextCreate) return context.skip();
      for (const kind of ['auth', 'quota'] as const) {
        const words = target.refuseNextCreate(kind);
        const id = taskId();
        const error = await target.provider.create({ taskId: id, env: env('succeed', id) }).then(
          () => undefined,
          (caught: unknown) => caught as Error & { code?: string },
        );
        expect(error, `${kind} refusal rejects create`).toBeInstanceOf(Error);
        expect(error?.code).toBe('SANDBOX_FAILED');
        expect(error?.message).toMatch(words);
        expect(error?.message).not.toMatch(/\n\s+at /);
      }
    });
  });
}
