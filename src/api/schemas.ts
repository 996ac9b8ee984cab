// The zod schemas of the HTTP API: they validate requests, type the handlers and generate the
// OpenAPI document at /api/v1/openapi.json. Request bodies are strict (an unknown field is a 400).
import { z } from '@hono/zod-openapi';
import { EXECUTION_MODES, PRIORITIES, TASK_STATUSES, TICKET_STATUSES, WORKFLOW_MODES } from '../core/rows.js';

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      issues: z.unknown().optional(),
    }),
  })
  .openapi('Error');

const id = (what: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .openapi({ description: `${what} id (uuid)` });
const text = (max: number) => z.string().max(max);
const timestamp = z.string().openapi({ format: 'date-time' });

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const ProjectSettings = z
  .strictObject({
    concurrency_limit: z.number().int().min(1).max(1000).optional(),
    auto_approve: z.boolean().optional(),
  })
  .openapi('ProjectSettings');

// Project credentials (src/core/credentials.ts): accepted, sealed, never returned.
export const CredentialInput = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('https_token'),
      secret: z.string().min(1).max(4000),
      username: z.string().min(1).max(100).optional(),
    }),
    z.strictObject({
      kind: z.literal('ssh_key'),
      private_key: z.string().min(1).max(20_000),
      known_hosts: z.string().max(100_000).optional(),
    }),
  ])
  .openapi('CredentialInput');

export const CredentialSummary = z
  .object({
    kind: z.enum(['https_token', 'ssh_key']),
    username: z.string().optional(),
    created_at: timestamp,
  })
  .openapi('CredentialSummary');

export const Project = z
  .object({
    id: z.string(),
    name: z.string(),
    repo_url: z.string(),
    default_branch: z.string(),
    settings: ProjectSettings,
    credential: CredentialSummary.nullable()
      .optional()
      .openapi({ description: 'The stored credential (kind, username); the secret is never returned' }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Project');

export const CreateProject = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[^\s/\\][^/\\]*$/, 'a name has no slashes and does not start with a space'),
    repo_url: z.string().trim().min(1).max(2000),
    default_branch: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'not a valid git branch name')
      .optional(),
    settings: ProjectSettings.optional(),
    /** Stored sealed with the project, in the same request (`omoi project add --token-env`). */
    credential: CredentialInput.optional(),
  })
  .openapi('CreateProject');

export const ExecutionConfig = z
  .strictObject({
    require_spec_skill: z.boolean(),
    selected_skill: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a skill name is lower-case words joined by dashes')
      .optional(),
  })
  .openapi('ExecutionConfig');

export const Ticket = z
  .object({
    id: z.string(),
    project_id: z.string(),
    number: z.number().int(),
    ref: z.string().openapi({ example: 'TKT-001' }),
    title: z.string(),
    description: z.string(),
    workflow_mode: z.enum(WORKFLOW_MODES),
    status: z.enum(TICKET_STATUSES),
    priority: z.enum(PRIORITIES),
    approved_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Ticket');

export const Task = z
  .object({
    id: z.string(),
    project_id: z.string(),
    ticket_id: z.string().nullable(),
    title: z.string(),
    description: z.string(),
    task_type: z.string(),
    execution_mode: z.enum(EXECUTION_MODES),
    execution_config: ExecutionConfig,
    status: z.enum(TASK_STATUSES),
    priority: z.enum(PRIORITIES),
    branch: z.string().nullable(),
    spec_task_id: z.string().nullable(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    error: z.string().nullable(),
    depends_on: z.array(z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Task');

export const Event = z
  .object({
    id: z.number().int(),
    type: z.string(),
    ts: timestamp,
    project_id: z.string().nullable(),
    ticket_id: z.string().nullable(),
    task_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

export const SpecDocument = z
  .object({
    id: z.string(),
    project_id: z.string(),
    spec_id: z.string(),
    kind: z.string(),
    path: z.string(),
    ticket_id: z.string().nullable(),
    title: z.string().nullable(),
    status: z.string().nullable(),
    frontmatter: z.record(z.string(), z.unknown()),
    body: z.string(),
    content_hash: z.string(),
    items: z.unknown(),
    links: z.array(
      z.object({
        kind: z.string(),
        target: z.string(),
        to_doc: z.string().nullable(),
        to_spec_id: z.string().nullable(),
      }),
    ),
  })
  .openapi('SpecDocument');

export const CreateTicket = z
  .strictObject({
    project_id: id('project'),
    title: text(200).trim().optional(),
    description: z.string().trim().min(1, 'a ticket needs a description').max(20_000),
    workflow_mode: z.enum(WORKFLOW_MODES),
    priority: z.enum(PRIORITIES).optional(),
  })
  .openapi('CreateTicket');

export const TicketQuery = z.object({
  project_id: z.string().max(100).optional(),
  status: z.enum(TICKET_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const CreateTask = z
  .strictObject({
    ticket_id: id('ticket'),
    title: z.string().trim().min(1).max(200),
    description: text(20_000).optional(),
    task_type: z
      .string()
      .min(1)
      .max(50)
      .regex(/^[a-z][a-z0-9_]*$/, 'a task type is a lower-case word')
      .optional(),
    execution_mode: z.enum(EXECUTION_MODES).optional(),
    execution_config: ExecutionConfig.optional(),
    status: z.enum(['pending', 'blocked']).optional(),
    priority: z.enum(PRIORITIES).optional(),
    depends_on: z.array(id('task')).max(100).optional(),
    max_attempts: z.number().int().min(1).max(20).optional(),
  })
  .openapi('CreateTask');

export const AddDependencies = z.strictObject({ depends_on: z.array(id('task')).min(1).max(100) });

export const TaskQuery = z.object({
  project_id: z.string().max(100).optional(),
  ticket_id: z.string().max(100).optional(),
  status: z.enum(TASK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const EventType = z
  .string()
  .min(3)
  .max(100)
  .regex(
    /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/,
    'an event type is noun.verb in lower case, like agent.message',
  );

export const PostEvent = z.strictObject({
  type: EventType,
  data: z.record(z.string(), z.unknown()).optional(),
});

export const PostEvents = z
  .union([PostEvent, z.strictObject({ events: z.array(PostEvent).min(1).max(500) })])
  .openapi('PostEvents');

export const EventQuery = z.object({
  project_id: z.string().max(100).optional(),
  ticket_id: z.string().max(100).optional(),
  task_id: z.string().max(100).optional(),
  /** For clients that cannot send headers (EventSource on a keyed server). */
  access_token: z.string().max(500).optional(),
  /** Same as the Last-Event-ID header, for clients that cannot send it. */
  last_event_id: z.string().max(30).optional(),
});

export const SyncRequest = z
  .strictObject({
    documents: z.array(z.strictObject({ path: z.string().max(1000), content: z.string() })).max(2000),
    ticket_id: id('ticket').optional(),
    strict: z.boolean().optional(),
  })
  .openapi('SpecSyncRequest');

export const SyncResult = z
  .object({
    valid: z.literal(true),
    summary: z.object({ files: z.number(), errors: z.number(), warnings: z.number() }),
    issues: z.array(z.unknown()),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    documents: z.array(
      z.object({
        spec_id: z.string(),
        kind: z.string(),
        path: z.string(),
        action: z.enum(['created', 'updated', 'unchanged']),
      }),
    ),
  })
  .openapi('SpecSyncResult');

export const CreateKey = z.strictObject({ name: z.string().trim().min(1).max(100) });

export const SpecQuery = z.object({
  kind: z.enum(['prd', 'requirements', 'design', 'ticket', 'task']).optional(),
});
