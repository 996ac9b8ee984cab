// The question inbox over HTTP (issue 15; src/core/questions.ts holds the transitions): a worker
// parks its own task on a question, a person answers it, everyone reads the inbox.
import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import { redactValue } from '../../base/redact.js';
import { IdParam, Task } from '../../contracts/api.js';
import {
  AnswerQuestion,
  AskQuestion,
  Question,
  QuestionList,
  QuestionQuery,
} from '../../contracts/questions.js';
import type { Principal } from '../../core/keys.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

/** Who answered, as people see it in the inbox and the events: a key's name, or the local user. */
function answeredBy(principal: Principal): string {
  if (principal.kind === 'api_key') return principal.name;
  if (principal.kind === 'local') return 'local user';
  return 'worker';
}

export function registerQuestions(app: App, { services }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks/{id}/question',
      tags: ['questions'],
      summary: 'A worker asks a person and parks its own task (awaiting_input) until they answer',
      description:
        'Worker tokens only. In one transaction: the question is stored (with the conversation checkpoint), the ' +
        'task leaves its claim for awaiting_input, and agent.question is appended. 409 TASK_NOT_RUNNING when the ' +
        'task is not running any more (cancelled meanwhile).',
      request: { params: IdParam, body: jsonBody(AskQuestion) },
      responses: {
        201: jsonResponse(Question, 'The open question'),
        400: errors[400],
        403: errors[403],
        404: errors[404],
        409: errors[409],
        413: errors[413],
      },
    }),
    async (c) => {
      if (c.get('principal').kind !== 'worker')
        throw new AppError(
          'FORBIDDEN',
          "only the task's own worker asks; people answer (POST /tasks/{id}/answer)",
        );
      const body = c.req.valid('json');
      // The checkpoint is the agent's transcript: whatever secret a tool printed is masked before it is stored.
      const input = body.checkpoint ? { ...body, checkpoint: redactValue(body.checkpoint) } : body;
      const question = await services.questions.ask(c.req.valid('param').id, input);
      // The ticket follows its task (a parked spec run is still analyzing; its spec task in progress).
      await services.flow.settle(question.task_id);
      return c.json(question, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks/{id}/answer',
      tags: ['questions'],
      summary: "Answer the task's open question: the task is queued again and resumes its conversation",
      description:
        '409 NOT_AWAITING_INPUT when the task has no open question (answered already, or never asked).',
      request: { params: IdParam, body: jsonBody(AnswerQuestion) },
      responses: {
        200: jsonResponse(z.object({ question: Question, task: Task }), 'The answered question and the task'),
        400: errors[400],
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const task = await services.tasks.get(id);
      const question = await services.questions.answer(
        task.id,
        c.req.valid('json').answer,
        answeredBy(c.get('principal')),
      );
      await services.flow.settle(task.id);
      return c.json({ question, task: await services.tasks.get(task.id) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/questions',
      tags: ['questions'],
      summary: 'The inbox: questions of every project (or one), open ones first',
      request: { query: QuestionQuery },
      responses: { 200: jsonResponse(QuestionList, 'Questions'), 400: errors[400] },
    }),
    async (c) => c.json({ questions: await services.questions.list(c.req.valid('query')) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}/questions',
      tags: ['questions'],
      summary: "A ticket's questions (id, or ref with project_id), open ones first",
      request: { params: IdParam, query: z.object({ project_id: z.string().max(100).optional() }) },
      responses: { 200: jsonResponse(QuestionList, 'Questions'), 404: errors[404], 409: errors[409] },
    }),
    async (c) => {
      const ticket = await services.tickets.resolve(c.req.valid('param').id, {
        projectId: c.req.valid('query').project_id,
      });
      return c.json({ questions: await services.questions.list({ ticket_id: ticket.id }) }, 200);
    },
  );
}
