import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/sandbox/docker.js';
import { createOrphanSweeper, liveSandboxesIn } from '../../src/sandbox/orphans.js';
import { describeEachDatabase } from '../support/db.js';
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

describeEachDatabase('live sandboxes in the database', (getDb) => {
  it('counts a sandbox live while its task is claimed or running, and quotes ids safely', async () => {
    const db = getDb();
    const [project] = await db.query<{ id: string }>(
      `INSERT INTO projects (name, repo_url) VALUES ($1, $2) RETURNING id`,
      [`orphans-${Date.now()}`, '/tmp/repo.git'],
    );
    const sandboxFor = async (status: string, externalId: string) => {
      const [task] = await db.query<{ id: string }>(
        `INSERT INTO tasks (project_id, title, execution_mode, status) VALUES ($1, 't', 'exploration', $2) RETURNING id`,
        [project?.id, status],
      );
      await db.query(
        `INSERT INTO sandboxes (task_id, provider, external_id, status) VALUES ($1, 'docker', $2, 'running')`,
        [task?.id, externalId],
      );
    };
    await sandboxFor('running', 'c-running');
    await sandboxFor('claimed', 'c-claimed');
    await sandboxFor('completed', 'c-done');
    await sandboxFor('running', 'odd "id", with\\ quotes');
    const live = await liveSandboxesIn(db)([
      'c-running',
      'c-claimed',
      'c-done',
      'c-unknown',
      'odd "id", with\\ quotes',
    ]);
    expect([...live].sort()).toEqual(['c-claimed', 'c-running', 'odd "id", with\\ quotes'].sort());
  });
});
