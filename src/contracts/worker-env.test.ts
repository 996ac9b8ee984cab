import { describe, expect, it } from 'vitest';
import { encodeWorkerEnv, parseWorkerEnv, type WorkerEnvInput } from './worker-env.js';

const input: WorkerEnvInput = {
  apiUrl: 'http://127.0.0.1:7878',
  token: 'omoi_wk_token',
  projectId: 'p1',
  taskId: 't1',
  sandboxId: 's1',
  executionMode: 'implementation',
  requiredSkill: null,
  runtime: 'openai',
  runtimeEnv: {},
  repoUrl: 'http://127.0.0.1:7878/api/v1/git/p1.git',
  baseBranch: 'main',
  workBranch: 'omoi/TKT-001',
  maxTurns: 40,
  specMaxAttempts: 3,
};

describe('the run budget in the env contract', () => {
  it('round-trips what the run may spend and the price overrides', () => {
    const env = encodeWorkerEnv({
      ...input,
      budget: { usd: 0.25, tokens: 5000, prices: { local: { input: 0.1, output: 0.2 } } },
    });
    expect(env).toMatchObject({ BUDGET_USD: '0.25', BUDGET_TOKENS: '5000' });
    const parsed = parseWorkerEnv(env);
    expect(parsed.ok && parsed.config).toMatchObject({
      BUDGET_USD: 0.25,
      BUDGET_TOKENS: 5000,
      OMOI_MODEL_PRICES: { local: { input: 0.1, output: 0.2 } },
    });
  });

  it('leaves out an uncapped unit, and refuses a malformed price table', () => {
    const env = encodeWorkerEnv({ ...input, budget: { usd: null, tokens: 100 } });
    expect(env.BUDGET_USD).toBeUndefined();
    expect(env.OMOI_MODEL_PRICES).toBeUndefined();
    expect(parseWorkerEnv({ ...env, OMOI_MODEL_PRICES: '{"m": 1}' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('OMOI_MODEL_PRICES'),
    });
  });
});
