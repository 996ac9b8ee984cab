// `omoi mcp` through the MCP SDK's own client over stdio, spawning the built CLI against a real Omoi
// server on PGlite that requires keys: tools (list, show, validate, create, approve, trace) and the
// spec documents as resources; a key whose role may not approve gets the API's 403 as a tool error;
// an agent's question (asked as its worker asks) shown by show_ticket and answered by answer_question.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { EXAMPLE_ROOT, exampleFiles } from '../api/support.js';
import { askAsWorker } from '../support/ask-as-worker.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'omoi.js');

async function connect(url: string, key: string, projectId?: string): Promise<Client> {
  const client = new Client({ name: 'omoi-test', version: '0.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp'],
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        OMOIOS_API_URL: url,
        OMOIOS_API_KEY: key,
        ...(projectId ? { OMOIOS_PROJECT_ID: projectId } : {}),
      },
      stderr: 'pipe',
    }),
  );
  return client;
}

type CallResult = { content: Array<{ type: string; text?: string }>; isError?: boolean };
const textOf = (result: unknown) => (result as CallResult).content.map((c) => c.text ?? '').join('\n');
// biome-ignore lint/suspicious/noExplicitAny: tool answers are asserted field by field
const jsonOf = (result: unknown): any => JSON.parse(textOf(result));

describe('omoi mcp', () => {
  let database: TestDatabase;
  let services: Services;
  let server: RunningServer;
  let admin: Client;
  let reader: Client;
  let projectId = '';

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    services = await createServices(database.db, { eventPollMs: 500, secretKey: 'k'.repeat(40) });
    const repo = join(mkdtempSync(join(tmpdir(), 'omoi-mcp-')), 'repo.git');
    execFileSync('git', ['init', '--quiet', '--bare', repo]);
    const project = await services.projects.create({ name: 'mcp-demo', repo_url: repo });
    projectId = project.id;
    const adminKey = await services.keys.create('mcp-admin', { role: 'admin' });
    const readKey = await services.keys.create('mcp-read', { role: 'read' });
    server = await startServer(
      loadServerConfig({ OMOI_REQUIRE_KEY: '1' }, { port: 0, host: '127.0.0.1', webDir: null }),
      { services },
    );
    admin = await connect(server.url, adminKey.key, project.id);
    reader = await connect(server.url, readKey.key);
  }, 120_000);

  afterAll(async () => {
    await admin?.close();
    await reader?.close();
    await server?.close();
    await services?.stop();
    await database?.cleanup();
  });

  it('offers a small tool set', async () => {
    const { tools } = await admin.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'answer_question',
      'approve_ticket',
      'create_ticket',
      'list_tickets',
      'show_ticket',
      'ticket_trace',
      'validate_spec',
    ]);
  });

  it('creates, lists and shows tickets; a read key may not create', async () => {
    const created = await admin.callTool({
      name: 'create_ticket',
      arguments: { description: 'Fix the typo on the login page', mode: 'quick' },
    });
    expect((created as CallResult).isError).toBeFalsy();
    const ticket = jsonOf(created);
    expect(ticket.ref).toMatch(/^TKT-\d+$/);
    const stored = await services.tickets.get(ticket.id);
    expect(stored.workflow_mode).toBe('quick');

    const listed = jsonOf(
      await reader.callTool({ name: 'list_tickets', arguments: { project: 'mcp-demo' } }),
    );
    expect(listed.map((t: { ref: string }) => t.ref)).toContain(ticket.ref);

    const shown = jsonOf(await reader.callTool({ name: 'show_ticket', arguments: { ticket: ticket.ref } }));
    expect(shown).toMatchObject({ id: ticket.id, status: stored.status, workflow_mode: 'quick' });
    expect(shown.tasks).toHaveLength(1);

    const refused = (await reader.callTool({
      name: 'create_ticket',
      arguments: { description: 'x', mode: 'quick', project: 'mcp-demo' },
    })) as CallResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('403');
  });

  it('validates a spec folder locally', async () => {
    const good = jsonOf(await reader.callTool({ name: 'validate_spec', arguments: { dir: EXAMPLE_ROOT } }));
    expect(good.valid).toBe(true);
    expect(good.summary.files).toBeGreaterThan(5);
    const missing = (await reader.callTool({
      name: 'validate_spec',
      arguments: { dir: '/nonexistent/omoi' },
    })) as CallResult;
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('no such folder');
  });

  it('approves only with a key that may, serves the spec as resources, and reads an unknown trace as an error', async () => {
    // A spec-driven ticket whose spec run finished and synced the example tree.
    const { ticket } = await services.tickets.create({
      project_id: projectId,
      description: 'Export reports',
      workflow_mode: 'spec_driven',
    });
    const documents = await exampleFiles();
    await services.specs.sync(projectId, documents, { ticketId: ticket.id });
    await database.db.query(`UPDATE tasks SET status = 'completed' WHERE ticket_id = $1`, [ticket.id]);

    const denied = (await reader.callTool({
      name: 'approve_ticket',
      arguments: { ticket: ticket.ref },
    })) as CallResult;
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/403.*role/);
    expect((await services.tickets.get(ticket.id)).approved_at).toBeNull();

    const approved = jsonOf(
      await admin.callTool({ name: 'approve_ticket', arguments: { ticket: ticket.ref } }),
    );
    expect(approved.created).toBeGreaterThan(0);
    expect((await services.tickets.get(ticket.id)).approved_at).not.toBeNull();

    const { resources } = await reader.listResources();
    const mine = resources.filter((r) => r.uri.startsWith(`omoi://tickets/${ticket.id}/specs/`));
    expect(mine.length).toBe(documents.length);
    const task = mine.find((r) => /\/specs\/TSK-/.test(r.uri))!;
    const read = await reader.readResource({ uri: task.uri });
    const content = read.contents[0] as { text: string; mimeType: string };
    expect(content.mimeType).toBe('text/markdown');
    expect(content.text).toMatch(/^---\nid: TSK-/);

    const trace = (await reader.callTool({
      name: 'ticket_trace',
      arguments: { ticket: 'TKT-999' },
    })) as CallResult;
    expect(trace.isError).toBe(true);
    expect(textOf(trace)).toContain('404');
  });

  it("shows an agent's open question with show_ticket, and answers it with answer_question", async () => {
    // one claimable task: this ticket's
    await database.db.query(`UPDATE tasks SET status = 'cancelled' WHERE status = 'pending'`);
    const { ticket, task } = await services.tickets.create({
      project_id: projectId,
      description: 'Add sessions',
      workflow_mode: 'quick',
    });
    const none = (await admin.callTool({
      name: 'answer_question',
      arguments: { ticket: ticket.ref, answer: 'PostgreSQL' },
    })) as CallResult;
    expect(none.isError).toBe(true);
    expect(textOf(none)).toBe(`${ticket.ref} has no open question`);

    await askAsWorker({ url: server.url, services }, task.id, {
      question: 'Which database should sessions use?',
      options: ['PostgreSQL', 'Redis'],
      why: 'The request names none.',
    });
    const shown = jsonOf(await reader.callTool({ name: 'show_ticket', arguments: { ticket: ticket.ref } }));
    expect(shown.tasks[0].status).toBe('awaiting_input');
    expect(shown.open_questions).toEqual([
      {
        task_id: task.id,
        task: 'implementation',
        kind: 'agent',
        question: 'Which database should sessions use?',
        why: 'The request names none.',
        options: ['PostgreSQL', 'Redis'],
        asked_at: expect.any(String),
      },
    ]);

    // a read key may not answer: the API's 403 comes back, and the question stays open
    const denied = (await reader.callTool({
      name: 'answer_question',
      arguments: { ticket: ticket.ref, answer: 'Redis' },
    })) as CallResult;
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('403');
    expect((await services.tasks.get(task.id)).status).toBe('awaiting_input');

    const answered = jsonOf(
      await admin.callTool({
        name: 'answer_question',
        arguments: { ticket: ticket.ref, answer: 'PostgreSQL', task_id: task.id },
      }),
    );
    expect(answered).toEqual({
      ticket: ticket.ref,
      question: 'Which database should sessions use?',
      answer: 'PostgreSQL',
      answered_by: 'mcp-admin',
      task: { id: task.id, title: task.title, status: 'pending' },
    });
    const after = jsonOf(await reader.callTool({ name: 'show_ticket', arguments: { ticket: ticket.ref } }));
    expect(after.open_questions).toEqual([]);
  });
});
