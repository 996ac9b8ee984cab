import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import {
  CreateProject,
  CredentialInput,
  CredentialSummary,
  DocumentList,
  ErrorBody,
  IdParam,
  Project,
  ProjectList,
  SpecQuery,
  SyncRequest,
  SyncResult,
} from '../../contracts/api.js';
import {
  type CredentialInput as CredentialValue,
  checkCredential,
  splitRepoUrl,
} from '../../core/credentials.js';
import type { Project as ProjectRow } from '../../core/projects.js';
import { checkRepoUrl } from '../../core/repo-url.js';
import { webhookConfigOf } from '../../notify/index.js';
import { prepareWebhooks, storeSecrets } from '../../notify/settings.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

export function registerProjects(app: App, { services, config }: AppDeps): void {
  // A project as routes show it: its credential's kind and username, never the secret.
  const withCredential = async (project: ProjectRow) => ({
    ...project,
    credential: await services.credentials.summary(project.id),
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/projects',
      tags: ['projects'],
      summary: 'Register a repository',
      request: { body: jsonBody(CreateProject) },
      responses: { 201: jsonResponse(Project, 'The project'), 400: errors[400], 409: errors[409] },
    }),
    async (c) => {
      const { credential: given, ...input } = c.req.valid('json');
      // A credential inside the URL (https://user:token@host/…) goes to the store, never to the row.
      const { url, credential: embedded } = splitRepoUrl(input.repo_url);
      // The form of the URL, and for a path on this machine that it is a repository (as the CLI).
      await checkRepoUrl(url);
      if (given && embedded)
        throw new AppError(
          'BAD_REQUEST',
          'send the credential either in repo_url or in credential, not both',
        );
      const credential: CredentialValue | undefined = given ?? embedded ?? undefined;
      if (credential) checkCredential(credential);
      // Webhook secrets are sealed apart; the settings keep the rest (src/notify/settings.ts).
      const hooks = input.settings?.webhooks
        ? await prepareWebhooks(input.settings.webhooks, new Map(), {
            allowPrivate: webhookConfigOf(config).allowPrivate,
          })
        : null;
      const settings = hooks ? { ...input.settings, webhooks: hooks.webhooks } : input.settings;
      const project = await services.projects.create(
        { ...input, ...(settings ? { settings } : {}), repo_url: url },
        async (created, tx) => {
          if (credential) await services.credentials.set(created.id, credential, tx);
          if (hooks) await storeSecrets(tx, services.credentials, created.id, hooks);
        },
      );
      return c.json(await withCredential(project), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/projects/{id}/credentials',
      tags: ['projects'],
      summary: "Store the project's git credential (replacing any)",
      description:
        'An https token (sent as HTTP Basic with `username`, default x-access-token) or an ssh private key ' +
        '(with known_hosts: strict host key checking). Sealed with AES-256-GCM; no route returns it. Only ' +
        "the server's own git uses it (the git broker).",
      request: { params: IdParam, body: jsonBody(CredentialInput) },
      responses: {
        201: jsonResponse(CredentialSummary, 'What is stored (never the secret)'),
        400: errors[400],
        404: errors[404],
      },
    }),
    async (c) => {
      const project = await services.projects.get(c.req.valid('param').id);
      return c.json(await services.credentials.set(project.id, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/projects/{id}/credentials',
      tags: ['projects'],
      summary: "Remove the project's git credential",
      request: { params: IdParam },
      responses: {
        200: jsonResponse(z.object({ removed: z.boolean() }), 'Whether there was one'),
        404: errors[404],
      },
    }),
    async (c) => {
      const project = await services.projects.get(c.req.valid('param').id);
      return c.json({ removed: await services.credentials.remove(project.id) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects',
      tags: ['projects'],
      summary: 'List projects',
      responses: { 200: jsonResponse(ProjectList, 'Every project') },
    }),
    async (c) => {
      const credentials = await services.credentials.summaries();
      const projects = await services.projects.list();
      return c.json(
        {
          projects: projects.map((p) => ({ ...p, credential: credentials.get(p.id) ?? null })),
        },
        200,
      );
    },
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
    async (c) => c.json(await withCredential(await services.projects.get(c.req.valid('param').id)), 200),
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
        ownTicketOnly: worker,
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
