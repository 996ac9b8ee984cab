// `omoi ticket forecast`: the built CLI against a real server, on a ticket with no history in its
// project (every size at its documented default): S ($0.15, 10 min) then M ($0.40, 20 min).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { TEST_REPO } from './support.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'omoi.js');

describe('omoi ticket forecast', () => {
  let database: TestDatabase;
  let services: Services;
  let server: RunningServer;
  let ref = '';

  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { PATH: process.env.PATH ?? '', OMOIOS_API_URL: server.url } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    services = await createServices(database.db, { eventPollMs: 500 });
    server = await startServer(loadServerConfig({}, { port: 0, host: '127.0.0.1', webDir: null }), {
      services,
    });
    const project = await services.projects.create({ name: 'forecast-cli', repo_url: TEST_REPO });
    const { ticket } = await services.tickets.create({
      project_id: project.id,
      description: 'Export reports',
      workflow_mode: 'spec_driven',
    });
    ref = ticket.ref;
    for (const [id, estimate, deps] of [
      ['TSK-001', '4h', []],
      ['TSK-002', 'M', ['TSK-001']],
    ] as const)
      await database.db.query(
        `INSERT INTO spec_documents (project_id, spec_id, kind, path, ticket_id, title, frontmatter, content_hash)
         VALUES ($1, $2, 'task', $3, $4, $2, $5::jsonb, 'h')`,
        [project.id, id, `tasks/${id}.md`, ticket.id, { id, estimate, dependencies: { depends_on: deps } }],
      );
  });

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    await database?.cleanup();
  });

  it('prints the total, the critical path and the basis', async () => {
    const text = await cli(['ticket', 'forecast', ref]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `${ref}: about $0.55, 210,000 tokens, 30 min on the critical path (TSK-001 -> TSK-002)`,
    );
    expect(text.stdout).toMatch(/S\s+default \(no history yet\)/);

    const json = await cli(['ticket', 'forecast', ref, '--json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.total).toEqual({ cost_usd: 0.55, tokens: 210_000 });
    expect(body.critical_path).toEqual({ minutes: 30, tasks: ['TSK-001', 'TSK-002'] });
  });

  it('exits 1 for an unknown ticket and 2 for an unknown project', async () => {
    const missing = await cli(['ticket', 'forecast', 'TKT-404']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('TKT-404');
    const usage = await cli(['ticket', 'forecast', ref, '--project', 'nope']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: omoi ticket forecast');
  });
});
