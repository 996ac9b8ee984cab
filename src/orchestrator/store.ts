// The few reads and writes the orchestrator makes beside the queue: a task's project and ticket,
// the sandboxes table, and the ticket's status while its spec run goes.

import { specBranch } from '../contracts/branches.js';
import type { QueueSql } from '../queue/queue.js';

export interface RunContext {
  repoUrl: string;
  defaultBranch: string;
  ticketRef: string | null;
  ticketTitle: string | null;
  workflowMode: string | null;
  /** The branch the work branch starts from: the spec branch `omoi/<ref>` for an approved spec task. */
  baseBranch: string;
  /** The project's outbound network policy for its sandboxes (settings.network). */
  network: 'none' | 'registries' | 'open';
}

export function createOrchestratorStore(sql: Pick<QueueSql, 'query'>) {
  return {
    async context(taskId: string): Promise<RunContext | null> {
      const rows = await sql.query<{
        repo_url: string;
        default_branch: string | null;
        ref: string | null;
        title: string | null;
        workflow_mode: string | null;
        spec_task_id: string | null;
        network: string | null;
      }>(
        `SELECT p.repo_url, p.default_branch, k.ref, k.title, k.workflow_mode, t.spec_task_id,
                p.settings->>'network' AS network
           FROM tasks t JOIN projects p ON p.id = t.project_id
           LEFT JOIN tickets k ON k.id = t.ticket_id
          WHERE t.id = $1`,
        [taskId],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        repoUrl: row.repo_url,
        defaultBranch: row.default_branch || 'main',
        ticketRef: row.ref,
        ticketTitle: row.title,
        workflowMode: row.workflow_mode,
        // A spec task starts from the spec branch. The integration run starts from the default
        // branch: every task branch it merges carries the spec, and what it changed is then what
        // its pull request shows.
        baseBranch: row.spec_task_id && row.ref ? specBranch(row.ref) : row.default_branch || 'main',
        network: row.network === 'none' || row.network === 'open' ? row.network : 'registries',
      };
    },

    async sandboxCreated(row: {
      id: string;
      taskId: string;
      provider: string;
      externalId: string;
    }): Promise<void> {
      await sql.query(
        `INSERT INTO sandboxes (id, task_id, provider, external_id, status, created_at)
         VALUES ($1, $2, $3, $4, 'running', now())`,
        [row.id, row.taskId, row.provider, row.externalId],
      );
    },

    async sandboxFinished(id: string, status: 'exited' | 'failed' | 'cancelled'): Promise<void> {
      await sql.query(`UPDATE sandboxes SET status = $2, destroyed_at = now() WHERE id = $1`, [id, status]);
    },

    /** Spec work on a ticket in the backlog puts it in `analyzing`. */
    async ticketAnalyzing(ticketId: string): Promise<void> {
      await sql.query(
        `UPDATE tickets SET status = 'analyzing', updated_at = now() WHERE id = $1 AND status = 'backlog'`,
        [ticketId],
      );
    },
  };
}

export type OrchestratorStore = ReturnType<typeof createOrchestratorStore>;
