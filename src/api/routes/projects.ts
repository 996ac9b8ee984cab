import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateProject,
  DocumentList,
  ErrorBody,
  IdParam,
  Project,
  ProjectList,
  SpecQuery,
  SyncRequest,
  SyncResult,
} from '../../contracts/api.js';
import type { App, AppDeps } from '../context.js';
import { send } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

export function registerProjects(app: App, { services }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/projects',
      tags: ['projects'],
      summary: 'Register a repository',
      request: { body: jsonBody(CreateProject) },
      responses: { 201: jsonResponse(Project, 'The project'), 400: errors[400], 409: errors[409] },
    }),
    async (c) => c.json(await services.projects.create(c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects',
      tags: ['projects'],
      summary: 'List projects',
      responses: { 200: jsonResponse(ProjectList, 'Every project') },
    }),
    async (c) => c.json({ projects: await services.projects.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects/{id}',
      tags: ['projects'],
      summary: 'One project',
      request: { params: IdParam },
      responses: { 200: jsonResponse(Project, 'The project'), 404: errors[404] },
    }),
    async (c) => c.json(await services.projects.get(c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/projects/{id}/specs/sync',
      tags: ['specs'],
      summary: 'Validate and store a set of .omoi_os documents',
      description:
        'Runs the spec validator on the documents; an invalid set is refused whole (422 SPEC_INVALID with the ' +
        'issues), a valid one is upserted by (project, spec id): the same set twice reports everything unchanged.',
      request: { params: IdParam, body: jsonBody(SyncRequest) },
      responses: {
        200: jsonResponse(SyncResult, 'What was created, updated and unchanged'),
        400: errors[400],
        403: errors[403],
        404: errors[404],
        413: errors[413],
        422: jsonResponse(
          ErrorBody,
          'SPEC_INVALID: the set is invalid (issues hold the report); nothing was stored',
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const worker = principal.kind === 'worker';
      const outcome = await services.specs.sync(c.req.valid('param').id, body.documents, {
        ticketId: worker ? principal.ticketId : (body.ticket_id ?? null),
        recordEvent: !worker,
        ...(body.strict === undefined ? {} : { strict: body.strict }),
        ...(body.dry_run ? { dryRun: true } : {}),
      });
      return c.json(outcome, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects/{id}/specs',
      tags: ['specs'],
      summary: "A project's spec documents with their resolved links",
      request: { params: IdParam, query: SpecQuery },
      responses: {
        200: jsonResponse(DocumentList, 'Documents'),
        404: errors[404],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await services.projects.get(id);
      const { kind } = c.req.valid('query');
      return c.json({ documents: await services.specs.listForProject(id, kind ? { kind } : {}) }, 200);
    },
  );
}
