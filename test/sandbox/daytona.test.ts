import { describe, expect, it } from 'vitest';
import { createDaytonaProvider } from '../../src/sandbox/daytona.js';
import { WORKER_BUNDLE_PATH } from '../../src/sandbox/worker-files.js';
import { startFakeDaytona } from '../support/fakes/daytona-service.js';
import { CONTRACT_WORKER, contractEnv, describeProviderContract } from './contract.js';

// Daytona cannot be reached from here: the real `@daytonaio/sdk` talks to a fake of its control
// API and toolbox (HTTP + the follow-log WebSocket) on 127.0.0.1.
const uploads = [{ from: CONTRACT_WORKER, to: WORKER_BUNDLE_PATH }];

describeProviderContract('daytona (fake Daytona API and toolbox)', async () => {
  const daytona = await startFakeDaytona();
  return {
    provider: createDaytonaProvider({
      apiKey: daytona.apiKey,
      apiUrl: daytona.apiUrl,
      uploads,
      stopGraceMs: 5_000,
      pollMs: 50,
    }),
    leftovers: async () => [...daytona.sandboxes.keys()],
    refuseNextCreate(kind) {
      daytona.http.failNext(
        kind === 'auth'
          ? {
              method: 'POST',
              path: /^\/api\/sandbox$/,
              status: 401,
              body: { statusCode: 401, message: 'Invalid API key', error: 'Unauthorized' },
            }
          : {
              method: 'POST',
              path: /^\/api\/sandbox$/,
              status: 403,
              body: {
                statusCode: 403,
                message: 'Total CPU quota exceeded. Maximum allowed: 10',
                error: 'Forbidden',
              },
            },
      );
      return kind === 'auth' ? /Daytona.*auth.*Invalid API key/ : /Daytona.*quota.*CPU quota exceeded/;
    },
    close: () => daytona.close(),
  };
});

describe('daytona provider specifics', () => {
  it('creates an ephemeral, labelled sandbox with the env contract, resources and an allow-list', async () => {
    const daytona = await startFakeDaytona();
    try {
      const provider = createDaytonaProvider({
        apiKey: daytona.apiKey,
        apiUrl: daytona.apiUrl,
        snapshot: 'omoi-worker',
        uploads,
        pollMs: 50,
        network: { mode: 'api-only', allowHosts: ['omoi.example.com', 'github.com'] },
      });
      const env = contractEnv('succeed', 'tsk_dt');
      const sandbox = await provider.create({
        taskId: 'tsk_dt',
        env,
        resources: { cpus: 2, memoryMb: 3000, timeoutMs: 600_000 },
      });
      const fake = daytona.sandboxes.get(sandbox.id);
      expect(fake?.env).toEqual(env);
      expect(fake?.labels).toMatchObject({ 'omoi-managed': 'true', 'omoi-task': 'tsk_dt' });
      expect(fake?.body).toMatchObject({
        snapshot: 'omoi-worker',
        cpu: 2,
        memory: 3,
        autoStopInterval: 10,
        autoDeleteInterval: 0,
        domainAllowList: 'omoi.example.com,github.com',
      });
      // The sandbox came back `starting`: the SDK read it again until it was `started`.
      expect(
        daytona.http.requests.some((r) => r.method === 'GET' && r.path === `/api/sandbox/${sandbox.id}`),
      ).toBe(true);
      expect((await sandbox.wait()).exitCode).toBe(0);
      await sandbox.destroy();
    } finally {
      await daytona.close();
    }
  });

  it('is unavailable without a key, and says why when the key is refused', async () => {
    const daytona = await startFakeDaytona();
    try {
      expect(await createDaytonaProvider({ apiUrl: daytona.apiUrl, uploads }).availability()).toEqual({
        available: false,
        reason: 'DAYTONA_API_KEY is not set',
      });
      const refused = await createDaytonaProvider({
        apiKey: 'wrong',
        apiUrl: daytona.apiUrl,
        uploads,
      }).availability();
      expect(refused.available).toBe(false);
      expect(refused.reason).toMatch(/Daytona: listing sandboxes failed \(auth/);
    } finally {
      await daytona.close();
    }
  });
});
