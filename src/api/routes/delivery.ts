// What a ticket delivered (issue 13): the requirement trace of a ticket and the diff of a task's
// branch, both read from the database and the server's git mirror of the project (src/broker/mirrors.ts).
import { createRoute } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import type { Mirrors } from '../../broker/mirrors.js';
import { IdParam } from '../../contracts/api.js';
import { specBranch } from '../../contracts/branches.js';
import { TaskDiff, TicketTrace } from '../../contracts/delivery.js';
import { deliveryOf } from '../../core/trace.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonResponse, TICKET_REF_NOTE, ticketOfPath, ticketPathRequest } from './common.js';

/** The unified patch a diff carries at most; `truncated` says when it was cut. */
export const MAX_PATCH_BYTES = 200_000;

export function registerDelivery(app: App, { services }: AppDeps, mirrors: Mirrors): void {
  /** `rev` in the project's mirror, fetching from the remote once when the mirror lacks it. */
  async function resolveFetching(
    project: { id: string; repo_url: string; default_branch: string },
    rev: string,
  ) {
    const found = await mirrors.resolve(project.id, rev);
    if (found) return found;
    await mirrors.fetch(project.id, project.repo_url, project.default_branch).catch(() => {});
    return mirrors.resolve(project.id, rev);
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}/trace',
      tags: ['tickets'],
      summary: 'Per requirement item: the tasks covering it, their commits and verification, and its status',
      description:
        'Status: verified (every covering task completed with passing verification), unverified (completed, some ' +
        'without evidence, or some still to run), failing (a covering task or its verification failed), not_started. ' +
        TICKET_REF_NOTE,
      request: ticketPathRequest,
      responses: { 200: jsonResponse(TicketTrace, 'The trace'), 404: errors[404], 409: errors[409] },
    }),
    async (c) => {
      const ticket = await ticketOfPath(services, c);
      const trace = await services.tickets.trace(ticket.id, {
        // The branch's own commits when the mirror already has them (no fetch for a trace).
        commitsOf: async (task, result) => {
          const head = result.commit ?? result.branch ?? task.branch;
          if (!head || !(await mirrors.resolve(ticket.project_id, head))) return [];
          const base = result.base_commit ?? specBranch(ticket.ref);
          const baseId = await mirrors.resolve(ticket.project_id, base);
          return mirrors.commits(ticket.project_id, baseId, head, 50);
        },
      });
      return c.json(trace, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks/{id}/diff',
      tags: ['tasks'],
      summary: "What a task's branch changed since where it started",
      description:
        'Base: the commit the run started from (result.base_commit), else the spec branch, else the default ' +
        `branch; head: the pushed commit, else the task branch. The patch is cut at ${MAX_PATCH_BYTES} bytes ` +
        '(truncated: true). 404 BRANCH_NOT_FOUND while the task has no branch yet.',
      request: { params: IdParam },
      responses: { 200: jsonResponse(TaskDiff, 'The diff'), 404: errors[404] },
    }),
    async (c) => {
      const task = await services.tasks.get(c.req.valid('param').id);
      const result = deliveryOf(task.result);
      const branch = result.branch ?? task.branch;
      const project = await services.projects.get(task.project_id);
      // Only a run that recorded a pushed commit is worth a fetch from the remote; a branch still
      // being pushed through the broker is in the mirror already.
      const head = !branch
        ? null
        : result.commit
          ? await resolveFetching(project, result.commit)
          : await mirrors.resolve(project.id, branch);
      if (!branch || !head)
        throw new AppError(
          'BRANCH_NOT_FOUND',
          `task ${task.id} has no branch yet${branch ? ` (${branch})` : ''}`,
        );
      const ticket = task.ticket_id ? await services.tickets.find(task.ticket_id) : null;
      const candidates = [
        result.base_commit,
        ticket && task.execution_mode === 'implementation' ? specBranch(ticket.ref) : null,
        project.default_branch,
      ].filter((r): r is string => !!r);
      let base: string | null = null;
      for (const candidate of candidates) if (!base) base = await mirrors.resolve(project.id, candidate);
      // A branch with no base in common (a new repository): everything it holds is its change.
      base ??= head;
      const diff = await mirrors.diff(project.id, base, head, MAX_PATCH_BYTES);
      return c.json({ task_id: task.id, branch, base, head, ...diff }, 200);
    },
  );
}
