// The question inbox (issue 15): an agent asks, its task parks in `awaiting_input` holding no
// sandbox, a person answers (web, CLI, API, MCP), and the task runs again with its conversation
// restored. What crosses a boundary is defined here once:
//
//   runtime --AgentEvent 'question'--> worker --POST /tasks/:id/question {question, checkpoint}--> server
//   server: one transaction stores the question, parks the task, appends `agent.question`
//   person --POST /tasks/:id/answer {answer}--> server: the task is pending again (`question.answered`)
//   worker (a new sandbox) --GET /tasks/:id--> `resume: {question, checkpoint}` --> runtime.start({resume})
//
// The checkpoint is opaque to the server: each runtime reads back only what it wrote (the
// OpenAI-compatible transcript, the Claude Code session file and id). It never holds a secret: the
// worker redacts it before posting, as it does every event.
import { z } from '@hono/zod-openapi';

/** The `error` of a runtime's `result` (and the worker's outcome) when the agent asked a question. */
export const AWAITING_INPUT = 'awaiting_input';

export const QUESTION_STATUSES = ['open', 'answered', 'cancelled'] as const;
export type QuestionStatus = (typeof QUESTION_STATUSES)[number];

/** `agent`: the agent asked (its question tool). `budget`: spend passed a cap's soft threshold; continue? */
export const QUESTION_KINDS = ['agent', 'budget'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

/** Limits of what an agent may ask and a person may answer (a 400 beyond them). */
export const QUESTION_LIMITS = {
  question: 4000,
  why: 2000,
  option: 500,
  options: 10,
  answer: 8000,
  /** A checkpoint's JSON, in characters: a transcript beyond it is refused, and the run fails. */
  checkpoint: 8_000_000,
} as const;

/**
 * A runtime's conversation as data, to continue it in another process: `runtime` names who wrote it
 * (a runtime refuses another's), `data` is that runtime's own shape.
 */
export const SessionCheckpoint = z
  .object({
    runtime: z.string().min(1).max(50),
    data: z.unknown(),
  })
  .openapi('SessionCheckpoint');
export type SessionCheckpoint = z.infer<typeof SessionCheckpoint>;

/** One question of an agent, and its answer once given. */
export const Question = z
  .object({
    id: z.string(),
    project_id: z.string(),
    ticket_id: z.string().nullable(),
    task_id: z.string(),
    /** The ticket's ref and the task's title, so an inbox line reads without more requests. */
    ticket_ref: z.string().nullable(),
    task_title: z.string(),
    kind: z.enum(QUESTION_KINDS),
    question: z.string(),
    /** Choices the agent offered (the person may still answer in their own words). */
    options: z.array(z.string()),
    /** Why the agent asks: what it would otherwise have to guess. */
    why: z.string().nullable(),
    status: z.enum(QUESTION_STATUSES),
    answer: z.string().nullable(),
    /** The key (its name) or user that answered. */
    answered_by: z.string().nullable(),
    asked_at: z.string().openapi({ format: 'date-time' }),
    answered_at: z.string().openapi({ format: 'date-time' }).nullable(),
  })
  .openapi('Question');
export type Question = z.infer<typeof Question>;

/** POST /api/v1/tasks/:id/question: a worker parks its own running task (worker token only). */
export const AskQuestion = z
  .strictObject({
    question: z.string().trim().min(1).max(QUESTION_LIMITS.question),
    options: z
      .array(z.string().trim().min(1).max(QUESTION_LIMITS.option))
      .max(QUESTION_LIMITS.options)
      .optional(),
    why: z.string().trim().max(QUESTION_LIMITS.why).optional(),
    /** Where the conversation stood; null when the runtime cannot resume (it starts over, with the answer). */
    checkpoint: SessionCheckpoint.nullable().optional(),
  })
  .openapi('AskQuestion');
export type AskQuestion = z.infer<typeof AskQuestion>;

/** POST /api/v1/tasks/:id/answer: a person answers the task's open question. */
export const AnswerQuestion = z
  .strictObject({ answer: z.string().trim().min(1).max(QUESTION_LIMITS.answer) })
  .openapi('AnswerQuestion');
export type AnswerQuestion = z.infer<typeof AnswerQuestion>;

/** GET /api/v1/questions (the inbox) and GET /api/v1/tickets/:id/questions. */
export const QuestionList = z.object({ questions: z.array(Question) }).openapi('QuestionList');
export type QuestionList = z.infer<typeof QuestionList>;

export const QuestionQuery = z.object({
  status: z.enum(QUESTION_STATUSES).optional(),
  project_id: z.string().max(100).optional(),
});

/**
 * What a resumed run continues from (TaskDetail.resume): the question it asked, answered, and the
 * conversation as it stood. Null once the run that used it has ended.
 */
export const ResumeBrief = z
  .object({
    question: Question,
    checkpoint: SessionCheckpoint.nullable(),
  })
  .openapi('ResumeBrief');
export type ResumeBrief = z.infer<typeof ResumeBrief>;

/** The marker a recorded clarification carries in the spec, so a run writes each one once. */
export function clarificationMarker(questionId: string): string {
  return `<!-- omoi:clarification ${questionId} -->`;
}
