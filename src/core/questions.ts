// The question inbox (issue 15; the shapes are src/contracts/questions.ts). Each change is one
// transaction with its event, so a crash between "asked" and "parked" cannot happen:
//
//   ask:    running task -> awaiting_input (no claim, no lease), question row `open`, `agent.question`
//   answer: awaiting_input -> pending (NOTIFY omoi_tasks), question `answered`, `question.answered`
//   cancel: the task's open question -> `cancelled` (src/core/tasks.ts cancels in its transaction)
//
// A parked task holds nothing: its sandbox is gone and the orchestrator's claim with it. Asking
// does not use up an attempt (a question is not a failure), so the resumed run is the same attempt.
import { AppError } from '../base/errors.js';
import type {
  AskQuestion,
  Question,
  QuestionKind,
  QuestionStatus,
  ResumeBrief,
} from '../contracts/questions.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import { type EventsService, TASKS_CHANNEL } from './events.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

/** How a person says no to a budget question. */
const STOP = /^\s*(stop|no|cancel|don'?t)\b/i;

const COLUMNS = `q.id, q.project_id, q.ticket_id, q.task_id, tk.ref AS ticket_ref, t.title AS task_title,
  q.kind, q.question, q.options, q.why, q.status, q.answer, q.answered_by, q.asked_at, q.answered_at`;
const FROM = `task_questions q JOIN tasks t ON t.id = q.task_id LEFT JOIN tickets tk ON tk.id = q.ticket_id`;

export interface QuestionFilter {
  status?: QuestionStatus;
  project_id?: string;
  ticket_id?: string;
  task_id?: string;
}

interface TaskRow {
  id: string;
  project_id: string;
  ticket_id: string | null;
  status: string;
}

export function createQuestionsService(db: Db, events: EventsService) {
  async function lockTask(tx: Tx, taskId: string): Promise<TaskRow> {
    const rows = isUuid(taskId)
      ? await tx.query<TaskRow>(
          `SELECT id, project_id, ticket_id, status FROM tasks WHERE id = $1 FOR UPDATE`,
          [taskId],
        )
      : [];
    if (!rows[0]) throw new AppError('NOT_FOUND', `no task ${taskId}`);
    return rows[0];
  }

  async function one(id: string, q: Queryable): Promise<Question> {
    const rows = await q.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM ${FROM} WHERE q.id = $1`, [
      id,
    ]);
    return plain<Question>(rows[0]!);
  }

  async function list(filter: QuestionFilter, limit = 500, q: Queryable = db): Promise<Question[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of [
      ['q.status', filter.status],
      ['q.project_id', filter.project_id],
      ['q.ticket_id', filter.ticket_id],
      ['q.task_id', filter.task_id],
    ] as const) {
      if (value === undefined) continue;
      // An id that is no uuid names nothing (rather than a database error).
      if (column !== 'q.status' && !isUuid(value)) return [];
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    params.push(limit);
    const rows = await q.query<Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM ${FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY (q.status = 'open') DESC, q.asked_at, q.id LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => plain<Question>(row));
  }

  return {
    list,

    /**
     * Parks a running task on a question (the worker's POST /tasks/:id/question). 409
     * TASK_NOT_RUNNING when the task is not running (cancelled meanwhile, or already parked).
     */
    async ask(
      taskId: string,
      input: AskQuestion,
      kind: QuestionKind = 'agent',
      budgetKey: string | null = null,
    ): Promise<Question> {
      return db.transaction(async (tx) => {
        const task = await lockTask(tx, taskId);
        if (task.status !== 'running' && task.status !== 'claimed')
          throw new AppError(
            'TASK_NOT_RUNNING',
            `task ${taskId} is ${task.status}; only a running task can ask`,
          );
        const rows = await tx.query<{ id: string }>(
          `INSERT INTO task_questions (project_id, ticket_id, task_id, kind, question, options, why, checkpoint, budget_key)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9) RETURNING id`,
          [
            task.project_id,
            task.ticket_id,
            task.id,
            kind,
            input.question,
            JSON.stringify(input.options ?? []),
            input.why?.trim() ? input.why.trim() : null,
            input.checkpoint ? JSON.stringify(input.checkpoint) : null,
            budgetKey,
          ],
        );
        await tx.query(
          `UPDATE tasks SET status = 'awaiting_input', claimed_by = NULL, lease_until = NULL,
                  attempts = GREATEST(attempts - 1, 0), updated_at = now()
            WHERE id = $1`,
          [task.id],
        );
        const question = await one(rows[0]!.id, tx);
        await events.append(
          {
            type: 'agent.question',
            projectId: task.project_id,
            ticketId: task.ticket_id,
            taskId: task.id,
            data: {
              question_id: question.id,
              kind: question.kind,
              question: question.question,
              options: question.options,
              why: question.why,
            },
          },
          tx,
        );
        return question;
      });
    },

    /**
     * Answers the task's open question and queues the task again (it resumes its conversation).
     * 409 NOT_AWAITING_INPUT when it has none open.
     */
    async answer(taskId: string, answer: string, by: string): Promise<Question> {
      return db.transaction(async (tx) => {
        const task = await lockTask(tx, taskId);
        const open = await tx.query<{ id: string; kind: QuestionKind }>(
          `SELECT id, kind FROM task_questions WHERE task_id = $1 AND status = 'open' FOR UPDATE`,
          [task.id],
        );
        if (!open[0] || task.status !== 'awaiting_input')
          throw new AppError(
            'NOT_AWAITING_INPUT',
            `task ${taskId} is ${task.status}; it has no open question`,
          );
        await tx.query(
          `UPDATE task_questions SET status = 'answered', answer = $2, answered_by = $3, answered_at = now()
            WHERE id = $1`,
          [open[0].id, answer, by],
        );
        // A budget question answered "stop" ends the task; any other answer lets it start.
        const stop = open[0].kind === 'budget' && STOP.test(answer);
        await tx.query(
          stop
            ? `UPDATE tasks SET status = 'cancelled', finished_at = now(), error = $2, updated_at = now() WHERE id = $1`
            : `UPDATE tasks SET status = 'pending', run_after = NULL, updated_at = now() WHERE id = $1`,
          stop ? [task.id, `stopped at the budget threshold by ${by}`] : [task.id],
        );
        await events.append(
          {
            type: 'question.answered',
            projectId: task.project_id,
            ticketId: task.ticket_id,
            taskId: task.id,
            data: { question_id: open[0].id, answer, by },
          },
          tx,
        );
        if (stop)
          await events.append(
            {
              type: 'task.cancelled',
              projectId: task.project_id,
              ticketId: task.ticket_id,
              taskId: task.id,
              data: { previous_status: 'awaiting_input', reason: `stopped at the budget threshold by ${by}` },
            },
            tx,
          );
        else if (open[0].kind === 'budget') {
          // One "continue" answers the same threshold's question for every task waiting on it.
          const others = await tx.query<{ id: string; task_id: string; ticket_id: string | null }>(
            `UPDATE task_questions q SET status = 'answered', answer = $2, answered_by = $3, answered_at = now()
              WHERE q.status = 'open' AND q.id <> $1
                AND q.budget_key = (SELECT budget_key FROM task_questions WHERE id = $1)
             RETURNING q.id, q.task_id, q.ticket_id`,
            [open[0].id, answer, by],
          );
          for (const other of others) {
            await tx.query(
              `UPDATE tasks SET status = 'pending', run_after = NULL, updated_at = now()
                WHERE id = $1 AND status = 'awaiting_input'`,
              [other.task_id],
            );
            await events.append(
              {
                type: 'question.answered',
                projectId: task.project_id,
                ticketId: other.ticket_id,
                taskId: other.task_id,
                data: { question_id: other.id, answer, by },
              },
              tx,
            );
          }
        }
        // Orchestrators wake on commit and claim it again.
        await tx.query('SELECT pg_notify($1, $2)', [TASKS_CHANNEL, task.project_id]);
        return one(open[0].id, tx);
      });
    },

    /**
     * What a run of the task resumes from: its agent's latest question, when answered, with the
     * checkpoint, as long as the task has not finished since (a completed task starts nothing
     * again). Budget questions are asked before a run starts: they resume no conversation.
     */
    async resumeOf(taskId: string, q: Queryable = db): Promise<ResumeBrief | null> {
      if (!isUuid(taskId)) return null;
      const rows = await q.query<Record<string, unknown> & { checkpoint: unknown }>(
        `SELECT ${COLUMNS}, q.checkpoint FROM ${FROM}
          WHERE q.task_id = $1 AND q.kind = 'agent' AND t.finished_at IS NULL
          ORDER BY q.asked_at DESC, q.id DESC LIMIT 1`,
        [taskId],
      );
      const row = rows[0];
      if (row?.status !== 'answered') return null;
      const { checkpoint, ...question } = row;
      return {
        question: plain<Question>(question),
        checkpoint: (checkpoint ?? null) as ResumeBrief['checkpoint'],
      };
    },

    /** The ticket's answered questions, oldest first: the clarifications a run records in the spec. */
    async clarifications(ticketId: string, q: Queryable = db): Promise<Question[]> {
      return (await list({ ticket_id: ticketId, status: 'answered' }, 500, q)).filter(
        (question) => question.kind === 'agent',
      );
    },
  };
}

export type QuestionsService = ReturnType<typeof createQuestionsService>;
