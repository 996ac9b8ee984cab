// Tickets: what a person asked for. Creating one also creates its first task, in one transaction;
// the workflow mode decides that task's execution config (docs/design.md, "The flow").

import { AppError } from '../base/errors.js';
import type { Ticket as ApiTicket, ExecutionConfig } from '../contracts/api.js';
import { type Priority, type TicketStatus, WORKFLOW_MODES, type WorkflowMode } from '../contracts/api.js';
import { specBranch } from '../contracts/branches.js';
import type { DeliveryResult } from '../contracts/delivery.js';
import type { Question } from '../contracts/questions.js';
import type { Db, Queryable } from '../db/client.js';
import { createApprovalService } from './approval.js';
import type { EventsService, OmoiEvent } from './events.js';
import { isUuid } from './projects.js';
import type { QuestionsService } from './questions.js';
import { plain } from './rows.js';
import type { SpecDocumentRow, SpecsService } from './specs.js';
import type { Task, TasksService } from './tasks.js';
import { type TraceTask, ticketTrace } from './trace.js';

/** The ticket as the API defines it (src/contracts/api.ts). */
export type Ticket = ApiTicket;

export interface TicketDetail extends Ticket {
  tasks: Task[];
  spec_documents: SpecDocumentRow[];
  events: OmoiEvent[];
  questions: Question[];
}

export interface CreateTicket {
  project_id: string;
  title?: string;
  description: string;
  workflow_mode: WorkflowMode;
  priority?: Priority;
}

export interface TicketFilter {
  project_id?: string;
  status?: TicketStatus;
}

export const SPEC_SKILL = 'spec-driven-dev';

/** The first task's shape for each workflow mode. */
export function firstTaskFor(mode: WorkflowMode): {
  taskType: string;
  executionMode: 'exploration' | 'implementation';
  executionConfig: ExecutionConfig;
} {
  if (mode === 'spec_driven')
    return {
      taskType: 'create_spec',
      executionMode: 'exploration',
      executionConfig: { require_spec_skill: true, selected_skill: SPEC_SKILL },
    };
  return {
    taskType: 'implementation',
    executionMode: 'implementation',
    executionConfig: { require_spec_skill: false },
  };
}

/** A title from the first words of a description: its first line, cut at a word near 80 chars. */
export function deriveTitle(description: string): string {
  const line =
    description
      .split(/\r?\n/)
      .map((l) => l.replace(/^[#>*\-\s]+/, '').trim())
      .find((l) => l.length > 0) ?? '';
  const flat = line.replace(/\s+/g, ' ');
  if (flat.length <= 80) return flat;
  const cut = flat.slice(0, 80);
  const space = cut.lastIndexOf(' ');
  return `${(space > 40 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, '')}…`;
}

/** A ticket ref as people type it: `TKT-1`, `tkt-001`. */
export const TICKET_REF = /^tkt-\d{1,9}$/i;

/** `TKT-<n>`, n zero-padded to at least three digits. */
export function ticketRef(n: number): string {
  return `TKT-${String(n).padStart(3, '0')}`;
}

const COLUMNS = `id, project_id, number, ref, title, description, workflow_mode, status, priority, approved_at,
  pull_request, created_at, updated_at`;

export function createTicketsService(
  db: Db,
  deps: { events: EventsService; tasks: TasksService; specs: SpecsService; questions: QuestionsService },
) {
  const { events, tasks } = deps;
  const approval = createApprovalService(db, { events, tasks });

  async function find(id: string, q: Queryable = db): Promise<Ticket | null> {
    if (!isUuid(id)) return null;
    const rows = await q.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM tickets WHERE id = $1`, [id]);
    return rows[0] ? plain<Ticket>(rows[0]) : null;
  }

  async function get(id: string, q: Queryable = db): Promise<Ticket> {
    const ticket = await find(id, q);
    if (!ticket) throw new AppError('NOT_FOUND', `no ticket with id ${id}`);
    return ticket;
  }

  /**
   * A ticket by its id or its ref (`TKT-001`, any case). Refs are numbered per project, so a ref
   * that repeats across projects needs `projectId`; without it the answer is 409 naming the projects.
   *
   * @example
   * await tickets.resolve('TKT-001', { projectId }); // the same row as tickets.get(id)
   */
  async function resolve(idOrRef: string, options: { projectId?: string | undefined } = {}): Promise<Ticket> {
    const key = idOrRef.trim();
    if (isUuid(key)) return get(key);
    if (!TICKET_REF.test(key))
      throw new AppError(
        'NOT_FOUND',
        `no ticket ${JSON.stringify(key)} (give its id or its ref, e.g. TKT-001)`,
      );
    const ref = key.toUpperCase().replace(/^TKT-0*(\d+)$/, (_, n: string) => ticketRef(Number(n)));
    if (options.projectId !== undefined && !isUuid(options.projectId))
      throw new AppError('NOT_FOUND', `no project with id ${options.projectId}`);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT ${COLUMNS.replace(/(\w+)/g, 't.$1')}, p.name AS project_name
         FROM tickets t JOIN projects p ON p.id = t.project_id
        WHERE t.ref = $1 ${options.projectId ? 'AND t.project_id = $2' : ''}
        ORDER BY p.name`,
      options.projectId ? [ref, options.projectId] : [ref],
    );
    if (rows.length === 0)
      throw new AppError('NOT_FOUND', `no ticket ${ref}${options.projectId ? ' in that project' : ''}`);
    if (rows.length > 1)
      throw new AppError(
        'CONFLICT',
        `${ref} exists in ${rows.length} projects (${rows
          .map((r) => `${r.project_name} ${r.project_id}`)
          .join(', ')}); name one with project_id (CLI: --project)`,
      );
    const { project_name: _name, ...row } = rows[0]!;
    return plain<Ticket>(row);
  }

  return {
    find,
    get,
    resolve,

    /** Creates the ticket and its first task in one transaction. */
    async create(input: CreateTicket): Promise<{ ticket: Ticket; task: Task }> {
      if (!(WORKFLOW_MODES as readonly string[]).includes(input.workflow_mode))
        throw new AppError(
          'VALIDATION_FAILED',
          `workflow_mode must be one of ${WORKFLOW_MODES.join(', ')} (got ${JSON.stringify(input.workflow_mode)})`,
        );
      const description = input.description.trim();
      const title = input.title?.trim() || deriveTitle(description);
      if (!title) throw new AppError('VALIDATION_FAILED', 'a ticket needs a description (or a title)');
      return db.transaction(async (tx) => {
        // The row lock on the project serialises numbering within the project.
        const seq = isUuid(input.project_id)
          ? await tx.query<{ ticket_seq: number }>(
              `UPDATE projects SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq`,
              [input.project_id],
            )
          : [];
        const number = seq[0]?.ticket_seq;
        if (number === undefined) throw new AppError('NOT_FOUND', `no project with id ${input.project_id}`);
        const ref = ticketRef(number);
        const priority = input.priority ?? 'MEDIUM';
        const rows = await tx.query<Record<string, unknown>>(
          `INSERT INTO tickets (project_id, number, ref, title, description, workflow_mode, priority)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
          [input.project_id, number, ref, title, description, input.workflow_mode, priority],
        );
        const ticket = plain<Ticket>(rows[0]!);
        await events.append(
          {
            type: 'ticket.created',
            projectId: ticket.project_id,
            ticketId: ticket.id,
            data: { ref, title, workflow_mode: ticket.workflow_mode, priority },
          },
          tx,
        );
        const shape = firstTaskFor(ticket.workflow_mode);
        const task = await tasks.insert(tx, {
          projectId: ticket.project_id,
          ticketId: ticket.id,
          title: ticket.workflow_mode === 'spec_driven' ? `Write the spec for ${ref}: ${title}` : title,
          description,
          taskType: shape.taskType,
          executionMode: shape.executionMode,
          executionConfig: shape.executionConfig,
          priority,
          branch: specBranch(ref),
        });
        return { ticket, task };
      });
    },

    async list(filter: TicketFilter, limit = 500): Promise<Ticket[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      if (filter.project_id !== undefined) {
        if (!isUuid(filter.project_id)) return [];
        params.push(filter.project_id);
        where.push(`project_id = $${params.length}`);
      }
      if (filter.status !== undefined) {
        params.push(filter.status);
        where.push(`status = $${params.length}`);
      }
      params.push(limit);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC, number DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => plain<Ticket>(r));
    },

    /** The ticket with its tasks, spec documents and latest events. */
    async detail(id: string): Promise<TicketDetail> {
      const ticket = await get(id);
      const [ticketTasks, documents, latest, questions] = await Promise.all([
        tasks.list({ ticket_id: id }),
        deps.specs.listForTicket(id),
        events.latest({ ticket_id: id }, 200),
        deps.questions.list({ ticket_id: id }),
      ]);
      return { ...ticket, tasks: ticketTasks, spec_documents: documents, events: latest, questions };
    },

    /** Spec tasks -> executable tasks (src/core/approval.ts): idempotent, 409 with the reason. */
    async approve(id: string, options: { by?: 'user' | 'auto' } = {}) {
      const outcome = await approval.approve(id, options);
      return { ...outcome, ticket: outcome.ticket as unknown as Ticket };
    },

    /**
     * Per requirement item: the tasks covering it, their commits and evidence, and its status
     * (src/core/trace.ts). `commitsOf` adds a task branch's commits from the server's mirror.
     */
    async trace(
      id: string,
      options: { commitsOf?: (task: TraceTask, result: Partial<DeliveryResult>) => Promise<string[]> } = {},
    ) {
      return ticketTrace(db, await get(id), options);
    },

    /** The approval service behind `approve` (the flow service auto-approves through it). */
    approval,
  };
}

export type TicketsService = ReturnType<typeof createTicketsService>;
