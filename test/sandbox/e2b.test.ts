import { describe, expect, it } from 'vitest';
import { createE2BProvider } from '../../src/sandbox/e2b.js';
import { WORKER_BUNDLE_PATH } from '../../src/sandbox/worker-files.js';
import { startFakeE2B } from '../support/fakes/e2b-service.js';
import { CONTRACT_WORKER, contractEnv, describeProviderContract } from './contract.js';

// E2B cannot be reached from here: the real `e2b` SDK talks to a fake of its control API and of
// envd (files + connect-rpc process service) on 127.0.0.1.
const uploads = [{ from: CONTRACT_WORKER, to: WORKER_BUNDLE_PATH }];

describeProviderContract('e2b (fake E2B API and envd)', async () => {
  const e2b = await startFakeE2B();
  return {
    provider: createE2BProvider({
      apiKey: e2b.apiKey,
      apiUrl: e2b.url,
      sandboxUrl: e2b.url,
      template: 'base',
      uploads,
      stopGraceMs: 5_000,
    }),
    leftovers: async () => [...e2b.sandboxes.keys()],
    refuseNextCreate(kind) {
      e2b.http.failNext(
        kind === 'auth'
          ? {
              method: 'POST',
              path: /^\/v2\/sandboxes$/,
              status: 401,
              body: { code: 401, message: 'Invalid API key' },
            }
          : {
              method: 'POST',
              path: /^\/v2\/sandboxes$/,
              status: 429,
              body: {
                code: 429,
                message: 'You have reached the maximum number of concurrent E2B sandboxes (20)',
              },
            },
      );
      return kind === 'auth' ? /E2B.*auth.*Invalid API key/ : /E2B.*quota.*maximum number of concurrent/;
    },
    close: () => e2b.close(),
  };
});

describe('e2b provider specifics', () => {
  it('uploads the worker, runs it from the workdir, and marks the sandbox as ours', async () => {
    const e2b = await startFakeE2B({ templates: ['omoi-worker'] });
    try {
      const provider = createE2BProvider({
        apiKey: e2b.apiKey,
        apiUrl: e2b.url,
        sandboxUrl: e2b.url,
        template: 'omoi-worker',
        uploads,
        network: { mode: 'api-only', allowHosts: ['omoi.example.com'] },
      });
      const sandbox = await provider.create({
        taskId: 'tsk_meta',
        env: contractEnv('succeed', 'tsk_meta'),
        resources: { timeoutMs: 120_000 },
      });
      const fake = e2b.sandboxes.get(sandbox.id);
      expect(fake?.metadata).toEqual({ 'omoi-managed': 'true', 'omoi-task': 'tsk_meta' });
      expect(fake?.timeoutSeconds).toBe(120);
      expect(fake?.network).toEqual({ allowOut: ['omoi.example.com'], denyOut: ['0.0.0.0/0'] });
      expect((await sandbox.wait()).exitCode).toBe(0);
      const start = e2b.http.requests.find((r) => r.path === '/process.Process/Start');
      expect(start?.body.toString()).toContain('"cwd":"/home/user/omoi"');
      expect(start?.body.toString()).toContain(`exec node ${WORKER_BUNDLE_PATH} worker`);
      await sandbox.destroy();
    } finally {
      await e2b.close();
    }
  });

  it('names the template when it does not exist, and leaves nothing behind', async () => {
    const e2b = await startFakeE2B();
    try {
      const provider = createE2BProvider({
        apiKey: e2b.apiKey,
        apiUrl: e2b.url,
        sandboxUrl: e2b.url,
        template: 'nope',
        uploads,
      });
      await expect(provider.create({ taskId: 'tsk_tpl', env: {} })).rejects.toThrow(
        /E2B: creating a sandbox from template nope failed \(not_found.*template 'nope' not found/,
      );
      expect(e2b.sandboxes.size).toBe(0);
    } finally {
      await e2b.close();
    }
  });

  it('is unavailable without a key, and says why when the key is refused', async () => {
    const e2b = await startFakeE2B();
    try {
      const base = { apiUrl: e2b.url, sandboxUrl: e2b.url, template: 'base', uploads };
      expect(await createE2BProvider(base).availability()).toEqual({
        available: false,
        reason: 'E2B_API_KEY is not set',
      });
      const refused = await createE2BProvider({ ...base, apiKey: 'e2b_wrong' }).availability();
      expect(refused.available).toBe(false);
      expect(refused.reason).toMatch(/E2B: listing sandboxes failed \(auth/);
    } finally {
      await e2b.close();
    }
  });
});
