import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/sandbox/docker.js';
import { createOrphanSweeper } from '../../src/sandbox/orphans.js';
import { type FakeDockerEngine, startFakeDockerEngine } from '../support/fakes/docker-engine.js';
import { CONTRACT_WORKER, contractEnv } from './contract.js';

describe('orphan sweeper', () => {
  let engine: FakeDockerEngine;
  beforeAll(async () => {
    engine = await startFakeDockerEngine({ images: { 'omoi-worker:test': ['node', CONTRACT_WORKER] } });
  });
  afterAll(() => engine.close());

  it('removes a sandbox no running task owns after two sweeps, and leaves owned ones alone', async () => {
    const provider = createDockerProvider({
      host: engine.host,
      image: 'omoi-worker:test',
      stopGraceSeconds: 1,
    });
    const owned = await provider.create({ taskId: 'tsk_live', env: contractEnv('hang', 'tsk_live') });
    const orphan = await provider.create({ taskId: 'tsk_dead', env: contractEnv('hang', 'tsk_dead') });
    const asked: string[][] = [];
    const sweeper = createOrphanSweeper(provider, async (ids) => {
      asked.push(ids);
      return new Set([owned.id]);
    });

    expect(await sweeper.sweep()).toEqual([]);
    expect(engine.containers.has(orphan.id)).toBe(true);
    expect(await sweeper.sweep()).toEqual([orphan.id]);
    expect(engine.containers.has(orphan.id)).toBe(false);
    expect(engine.containers.has(owned.id)).toBe(true);
    expect(asked[0]?.sort()).toEqual([owned.id, orphan.id].sort());
    expect(await sweeper.sweep()).toEqual([]);

    await owned.cancel();
    await owned.destroy();
  });
});
