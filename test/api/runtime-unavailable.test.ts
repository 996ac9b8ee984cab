// An explicitly chosen agent runtime without its key is a clear 422 when a ticket is created (what
// to set, in the message), not a failure inside a sandbox minutes later; a runtime chosen by the
// keys present (or offline) never blocks tickets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/core/config.js';
import { describeEachDatabase } from '../support/db.js';
import { makeApi, TEST_REPO, type TestApi } from './support.js';

describe('loadServerConfig runtimeUnavailable', () => {
  const of = (env: Record<string, string>) => loadServerConfig(env, { webDir: null }).runtimeUnavailable;

  it('says what to set when AGENT_RUNTIME is explicit and its key is missing', () => {
    expect(of({ AGENT_RUNTIME: 'claude' })).toMatch(/AGENT_RUNTIME=claude needs ANTHROPIC_API_KEY/);
    expect(of({ AGENT_RUNTIME: 'openai' })).toMatch(/OPENAI_API_KEY .*OPENAI_BASE_URL/);
    expect(of({ AGENT_RUNTIME: 'nope' })).toMatch(/Unknown agent runtime "nope"/);
  });

  it('is null when the explicit runtime has its key, or when none is chosen explicitly', () => {
    expect(of({ AGENT_RUNTIME: 'claude', ANTHROPIC_API_KEY: 'sk-ant-x' })).toBeNull();
    expect(of({ AGENT_RUNTIME: 'offline' })).toBeNull();
    expect(of({})).toBeNull();
    expect(of({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' })).toBeNull();
  });
});

describeEachDatabase('POST /api/v1/tickets with an unusable runtime', (getDb) => {
  let refusing: TestApi;
  let working: TestApi;

  beforeAll(async () => {
    refusing = await makeApi(getDb(), loadServerConfig({ AGENT_RUNTIME: 'claude' }, { webDir: null }));
    working = await makeApi(
      getDb(),
      loadServerConfig({ AGENT_RUNTIME: 'claude', ANTHROPIC_API_KEY: 'sk-ant-x' }, { webDir: null }),
    );
  });
  afterAll(async () => {
    await refusing?.close();
    await working?.close();
  });

  it('answers 422 RUNTIME_UNAVAILABLE naming the variable, and creates nothing', async () => {
    const project = await refusing.request('POST', '/api/v1/projects', {
      name: `runtime-${Date.now()}`,
      repo_url: TEST_REPO,
    });
    expect(project.status).toBe(201);
    const ticket = {
      project_id: project.body.id,
      title: 'Add a thing',
      description: 'As a user I want a thing so that it is there.',
      workflow_mode: 'quick',
    };
    const res = await refusing.request('POST', '/api/v1/tickets', ticket);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(res.body.error.message).toContain('ANTHROPIC_API_KEY');
    const rows = await getDb().query(`SELECT id FROM tickets WHERE project_id = $1`, [project.body.id]);
    expect(rows).toEqual([]);

    const ok = await working.request('POST', '/api/v1/tickets', ticket);
    expect(ok.status).toBe(201);
  });
});
