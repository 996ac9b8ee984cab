import { afterEach, describe, expect, it } from 'vitest';
import { parseOutcomeLine } from '../../src/contracts/worker-outcome.js';
import { createProvider, type ProviderContext } from '../../src/sandbox/registry.js';

const context: ProviderContext = {
  dataDir: '/nonexistent',
  omoiBin: '/nonexistent/bin/omoi.js',
  path: '',
  keepOnFailure: false,
  isolation: 'auto',
  settings: {},
  log: () => {},
};

describe('the noop sandbox provider (benchmarks only)', () => {
  afterEach(() => {
    delete process.env.OMOI_SANDBOX_NOOP;
  });

  it('is refused unless OMOI_SANDBOX_NOOP=benchmark asks for it', async () => {
    await expect(createProvider('noop', context)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    process.env.OMOI_SANDBOX_NOOP = 'yes';
    await expect(createProvider('noop', context)).rejects.toThrow(/OMOI_SANDBOX_NOOP=benchmark/);
  });

  it('reports success on its work branch at once and exits 0', async () => {
    process.env.OMOI_SANDBOX_NOOP = 'benchmark';
    const provider = await createProvider('noop', context);
    const sandbox = await provider.create({ taskId: 't1', env: { WORK_BRANCH: 'omoi/t1' } });
    const lines = [];
    for await (const line of sandbox.logs()) lines.push(line);
    expect(lines.map((l) => parseOutcomeLine(l.text))).toEqual([
      { ok: true, branch: 'omoi/t1', commit: null },
    ]);
    expect(await sandbox.wait()).toEqual({ exitCode: 0 });
  });
});
