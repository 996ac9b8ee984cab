// Approved spec tasks run by a real model runtime: `omoi start` with the `openai` runtime pointed at
// the scripted fake model server (real HTTP). The model writes the spec in the spec run, then each
// approved task's turn edits a real file, which the worker commits and pushes on that task's branch.
// The recorded requests show what the model was given: the task's spec file, its ticket, the
// requirement it addresses and the design.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRemote,
  ensureBuilt,
  eventually,
  freshPostgres,
  git,
  type OmoiServer,
  startOmoi,
} from '../e2e-run/support/harness.js';
import {
  conversationTextOf,
  type FakeModelServer,
  type ScriptTurn,
  startFakeModelServer,
} from '../support/fake-model-server.js';
import { dagSpec, taskId } from './support/dag-spec.js';

const databases = ['pglite', ...(process.env.OMOI_TEST_DATABASE_URL ? ['postgres'] : [])];
const CHAIN: Record<string, string[]> = { A: [], B: ['A'], C: ['B'] };
const write = (path: string, content: string) => ({ name: 'write_file', input: { path, content } });

beforeAll(() => ensureBuilt(), 600_000);

describe.each(databases)(
  'approved tasks with the openai runtime and the fake model server on %s',
  (database) => {
    let root: string;
    let remote: string;
    let model: FakeModelServer;
    let server: OmoiServer;
    let dropDatabase: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'omoi-exec-model-'));
      remote = await createRemote(root);
      const spec = dagSpec({ feature: 'MOD', tasks: CHAIN });
      const turns: ScriptTurn[] = [
        { text: 'Writing the spec.', toolCalls: spec.map((f) => write(f.path, String(f.content))) },
        { text: 'Planned.' },
        // One task at a time (a chain, concurrency 1), so the turns are played in this order.
        ...Object.keys(CHAIN).flatMap((l): ScriptTurn[] => [
          { toolCalls: [write(`src/step-${l.toLowerCase()}.txt`, `step ${l} done\n`)] },
          { text: `Step ${l} implemented.` },
        ]),
      ];
      model = await startFakeModelServer({ turns });
      const db = database === 'postgres' ? await freshPostgres() : null;
      dropDatabase = db?.drop;
      server = await startOmoi({
        dataDir: join(root, 'data'),
        env: {
          AGENT_RUNTIME: 'openai',
          OPENAI_BASE_URL: `${model.url}/v1`,
          OPENAI_API_KEY: 'sk-test-openai',
          OMOI_MODEL: 'gpt-fake',
          OMOI_LEASE_MS: '5000',
          ...(db ? { DATABASE_URL: db.url } : {}),
        },
      });
    }, 300_000);

    afterAll(async () => {
      await server?.stop();
      await model?.close();
      await dropDatabase?.();
      await rm(root, { recursive: true, force: true });
    });

    it('each approved task edits a real file, committed and pushed on its own branch, with its context in the prompt', async () => {
      const project = await server.api<{ id: string }>('POST', '/projects', {
        name: 'exec-model',
        repo_url: remote,
        settings: { concurrency_limit: 1 },
      });
      const { ticket, task } = await server.api<{
        ticket: { id: string; ref: string };
        task: { id: string };
      }>('POST', '/tickets', {
        project_id: project.id,
        description: 'Build the MOD chain',
        workflow_mode: 'spec_driven',
      });
      await eventually(async () => {
        const t = await server.api<{ status: string; error: string | null }>('GET', `/tasks/${task.id}`);
        if (t.status === 'failed') throw new Error(`spec run failed: ${t.error}`);
        return t.status === 'completed';
      }, 'the spec run');
      const approved = await server.api<{ created: number }>('POST', `/tickets/${ticket.id}/approve`);
      expect(approved.created).toBe(4); // three spec tasks and the integration run
      await eventually(
        async () => (await server.api<{ status: string }>('GET', `/tickets/${ticket.id}`)).status === 'done',
        'the ticket to be done',
        300_000,
      );

      const specHead = git(remote, 'rev-parse', `omoi/${ticket.ref}`);
      for (const letter of Object.keys(CHAIN)) {
        const branch = `omoi/${ticket.ref}-${taskId('MOD', letter)}`;
        expect(git(remote, 'show', `${branch}:src/step-${letter.toLowerCase()}.txt`)).toBe(
          `step ${letter} done`,
        );
        expect(git(remote, 'log', '-1', '--format=%an|%s', branch)).toBe(
          `Omoi Worker|feat: ${taskId('MOD', letter)}: Step ${letter}`,
        );
        // Stacked (issue 13): the spec branch and every dependency's branch are in its history.
        for (const base of [
          `omoi/${ticket.ref}`,
          ...CHAIN[letter]!.map((d) => `omoi/${ticket.ref}-${taskId('MOD', d)}`),
        ])
          expect(() => git(remote, 'merge-base', '--is-ancestor', base, branch)).not.toThrow();
      }
      expect(git(remote, 'log', '-1', '--format=%P', `omoi/${ticket.ref}-${taskId('MOD', 'A')}`)).toBe(
        specHead,
      );

      // What the model was sent for task B: its own spec file, its ticket, the requirement, the design.
      const forB = model
        .modelRequests()
        .map(conversationTextOf)
        .find((text) => text.includes(`Spec task: ${taskId('MOD', 'B')}`));
      expect(forB).toBeDefined();
      expect(forB).toContain(`### Task spec: .omoi_os/tasks/${taskId('MOD', 'B')}.md`);
      expect(forB).toContain('Write step-b.txt');
      expect(forB).toContain(`### Ticket: .omoi_os/tickets/TKT-MOD-001.md`);
      expect(forB).toContain('REQ-MOD-CORE-001: Run the mod work');
      expect(forB).toContain('### Design: .omoi_os/designs/mod.md');
      expect(forB).not.toContain('Write step-c.txt'); // another task's spec is not its context
    }, 400_000);
  },
);
