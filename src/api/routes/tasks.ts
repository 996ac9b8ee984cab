import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import { taskModelUsage } from '../../broker/model.js';
import {
  AddDependencies,
  CreateTask,
  EventList,
  IdParam,
  PostEvents,
  Task,
  TaskDetail,
  TaskList,
  TaskQuery,
} from '../../contracts/api.js';
import { type AppendEvent, isWorkerEventType, WORKER_EVENT_TYPES } from '../../contracts/events.js';
import { deliveryBrief } from '../../core/delivery.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

/** Lifecycle events only the server writes; a client posting them would misreport a task. */

export function registerTasks(app: App, { services }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks/{id}/usage',
      tags: ['tasks'],
      summary: "The task's model usage through the model broker",
      description:
        'Calls, input and output tokens, and cost in USD when the model endpoint reports one (else null).',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(
          z.object({
            calls: z.number().int(),
            input_tokens: z.number().int(),
            output_tokens: z.number().int(),
            cost_usd: z.number().nullable(),
          }),
          'Summed over the calls',
        ),
        404: errors[404],
      },
    }),
    async (c) => {
      const task = await services.tasks.get(c.req.valid('param').id);
      return c.json(await taskModelUsage(services.db, task.id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks',
      tags: ['tasks'],
      summary: 'Add a task to a ticket',
      request: { body: jsonBody(CreateTask) },
      responses: {
        201: jsonResponse(Task, 'The task'),
        400: errors[400],
        404: errors[404],
      },
    }),
    async (c) => c.json(await services.tasks.create(c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks',
      tags: ['tasks'],
      summary: 'List tasks, oldest first',
      request: { query: TaskQuery },
      responses: { 200: jsonResponse(TaskList, 'Tasks'), 400: errors[400] },
    }),
    async (c) => {
      const { limit, ...filter } = c.req.valid('query');
      return c.json({ tasks: await services.tasks.list(filter, limit) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks/{id}',
      tags: ['tasks'],
      summary: 'A task with its ticket and project (what a worker needs to run it)',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(TaskDetail, 'The task'),
        403: errors[403],
        404: errors[404],
      },
    }),
    async (c) => {
      const task = await services.tasks.get(c.req.valid('param').id);
      const [ticket, project] = await Promise.all([
        task.ticket_id ? services.tickets.find(task.ticket_id) : null,
        services.projects.get(task.project_id),
      ]);
      const { id, name, repo_url, default_branch } = project;
      const [delivery, resume, clarifications] = await Promise.all([
        deliveryBrief(services.db, task, project.settings?.verify_command ?? null),
        services.questions.resumeOf(task.id),
        task.ticket_id ? services.questions.clarifications(task.ticket_id) : [],
      ]);
      // A sandbox knows its repository only as the git broker (REPO_URL): never the remote's address.
      const worker = c.get('principal').kind === 'worker';
      return c.json(
        {
          ...task,
          ticket,
          project: { id, name, ...(worker ? {} : { repo_url }), default_branch },
          delivery,
          resume,
          clarifications,
        },
        200,
      );
    },
  );

  for (const action of ['cancel', 'retry'] as const)
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/tasks/{id}/${action}`,
        tags: ['tasks'],
        summary:
          action === 'cancel'
            ? 'Cancel a task that has not finished'
            : 'Queue a failed or cancelled task again',
        request: { params: IdParam },
        responses: { 200: jsonResponse(Task, 'The task'), 404: errors[404], 409: errors[409] },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        await services.tasks[action](id);
        // Dependants are blocked (cancel) or released (retry) and the ticket moves with them.
        await services.flow.settle(id);
        return c.json(await services.tasks.get(id), 200);
      },
    );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks/{id}/dependencies',
      tags: ['tasks'],
      summary: 'Add dependencies to a task that has not started (cycles are refused)',
      request: { params: IdParam, body: jsonBody(AddDependencies) },
      responses: {
        200: jsonResponse(Task, 'The task'),
        400: errors[400],
        404: errors[404],
        409: errors[409],
        422: errors[400],
      },
    }),
    async (c) =>
      c.json(
        await services.tasks.addDependencies(c.req.valid('param').id, c.req.valid('json').depends_on),
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks/{id}/events',
      tags: ['events'],
      summary: "Record events of a task's run (what a worker reports)",
      description:
        'One `{type, data}` or a batch `{events: [{type, data}, …]}`, stored in order in one transaction.',
      request: { params: IdParam, body: jsonBody(PostEvents) },
      responses: {
        201: jsonResponse(EventList, 'The stored events'),
        400: errors[400],
        403: errors[403],
        404: errors[404],
      },
    }),
    async (c) => {
      const task = await services.tasks.get(c.req.valid('param').id);
      const body = c.req.valid('json');
      const posted = 'events' in body ? body.events : [body];
      const reserved = posted.find((e) => !isWorkerEventType(e.type));
      if (reserved)
        throw new AppError(
          'FORBIDDEN',
          `${reserved.type} is written by the server; a worker posts ${WORKER_EVENT_TYPES.join(', ')}`,
        );
      // The type is one of the worker's (checked by the schema); its data is the worker's report,
      // checked as a JSON object: readers treat every field of a posted event as optional.
      const stored = await services.events.appendMany(
        posted.map(
          (e) =>
            ({
              type: e.type,
              projectId: task.project_id,
              ticketId: task.ticket_id,
              taskId: task.id,
              data: e.data ?? {},
            }) as AppendEvent,
        ),
      );
      return c.json({ events: stored }, 201);
    },
  );
}
