// The HTTP API's resources and requests, defined once: the server validates requests and types its
// responses with them, they generate the OpenAPI document at /api/v1/openapi.json, the CLI and the
// worker parse answers with them, and the web UI takes its types from them (`import type`).
// Request bodies are strict (an unknown field is a 400). A new field is one change here plus its
// SQL migration.
import { z } from '@hono/zod-openapi';
import { DeliveryBrief, PullRequest, PullRequestSettings } from './delivery.js';
import { EXECUTION_MODES, PRIORITIES, TASK_STATUSES, TICKET_STATUSES, WORKFLOW_MODES } from './enums.js';
import { EVENT_TYPES, type OmoiEvent } from './events.js';
import { PriceTable } from './prices.js';
import { Question, ResumeBrief } from './questions.js';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENTS, WEBHOOK_FORMATS } from './webhooks.js';

export * from './enums.js';

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

/**
 * One outgoing webhook (src/notify/). Written with `secret`; read back with `has_secret` instead:
 * the secret is sealed apart and never returned. Keep `id` when rewriting the list to keep a secret.
 */
export const WebhookSetting = z
  .strictObject({
    id: z.string().min(1).max(100).optional(),
    url: z.string().trim().min(1).max(2000),
    /** Omitted: every webhook event. */
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
    /** The HMAC key (write-only, 16+ characters). */
    secret: z.string().min(16, 'a webhook secret has at least 16 characters').max(500).optional(),
    format: z.enum(WEBHOOK_FORMATS).optional(),
    /** Read-only: whether a secret is stored. */
    has_secret: z.boolean().optional(),
  })
  .openapi('WebhookSetting');

const usdCap = z.number().positive().max(1_000_000).optional();
const tokenCap = z.number().int().positive().max(1e12).optional();
/**
 * Spending caps (src/core/budgets.ts). Each unset key falls back to the server's OMOI_BUDGET_* default;
 * unset there too: no cap. `daily_*` counts this project's spend since 00:00 UTC.
 */
export const BudgetSettings = z
  .strictObject({
    task_usd: usdCap,
    task_tokens: tokenCap,
    ticket_usd: usdCap,
    ticket_tokens: tokenCap,
    project_usd: usdCap,
    project_tokens: tokenCap,
    daily_usd: usdCap,
    daily_tokens: tokenCap,
    /** Share of a cap at which `budget.threshold` is emitted once per scope (default 0.8). */
    soft_threshold: z.number().min(0).max(1).optional(),
  })
  .openapi('BudgetSettings');
export type BudgetSettings = z.infer<typeof BudgetSettings>;

export const ProjectSettings = z
  .strictObject({
    /** Spending caps per task, ticket, project and day. */
    budget: BudgetSettings.optional(),
    /** USD per 1M input/output tokens by model name (local models), over the built-in table. */
    prices: PriceTable.optional(),
    concurrency_limit: z.number().int().min(1).max(1000).optional(),
    auto_approve: z.boolean().optional(),
    network: z.enum(['none', 'registries', 'open']).optional(), // sandboxes' outbound network (default registries)
    /** Run after every implementation turn (`npm test`); unset: detected from the repository. */
    verify_command: z.string().trim().min(1).max(2000).optional(),
    /** Open one pull/merge request per approved ticket from its integration branch. */
    pull_request: PullRequestSettings.optional(),
    /** Outgoing webhooks (secrets never returned: `has_secret`). */
    webhooks: z.array(WebhookSetting).max(20).optional(),
  })
  .openapi('ProjectSettings');

/** PUT /projects/:id/webhooks: the whole list, replacing the old one. */
export const PutWebhooks = z
  .strictObject({ webhooks: z.array(WebhookSetting).max(20) })
  .openapi('PutWebhooks');
export const WebhookList = z.object({ webhooks: z.array(WebhookSetting) }).openapi('WebhookList');

/** One delivery attempt series (GET /projects/:id/webhook-deliveries); never the secret. */
export const WebhookDelivery = z
  .object({
    id: z.string(),
    webhook_id: z.string(),
    event: z.enum(WEBHOOK_EVENTS),
    event_id: z.number().int(),
    url: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.number().int(),
    response_code: z.number().int().nullable(),
    error: z.string().nullable(),
    next_attempt_at: timestamp.nullable(),
    created_at: timestamp,
    delivered_at: timestamp.nullable(),
  })
  .openapi('WebhookDelivery');
export const WebhookDeliveryList = z
  .object({ deliveries: z.array(WebhookDelivery) })
  .openapi('WebhookDeliveryList');
export const WebhookDeliveryQuery = z.object({
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export type WebhookSetting = z.infer<typeof WebhookSetting>;
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** USD and tokens left under the caps that apply; null: no cap in that unit. */
export const BudgetRemaining = z
  .object({ usd: z.number().nullable(), tokens: z.number().nullable() })
  .openapi('BudgetRemaining');

/** GET /tickets/:id/spend: what the ticket's tasks spent, its caps and what is left. */
export const TicketSpend = z
  .object({
    ticket_id: z.string(),
    usd: z.number(),
    tokens: z.number(),
    /** The caps in force for this ticket's project (settings over the server's defaults). */
    caps: BudgetSettings,
    /** The least left under the ticket, project and daily caps. */
    remaining: BudgetRemaining,
  })
  .openapi('TicketSpend');
export type TicketSpend = z.infer<typeof TicketSpend>;

/** POST /tickets/:id/approve (body optional). */
export const ApproveTicket = z
  .strictObject({
    /** Approve even though the forecast exceeds the remaining budget. */
    confirm_over_budget: z.boolean().optional(),
  })
  .openapi('ApproveTicket');
export type ApproveTicket = z.infer<typeof ApproveTicket>;

/** What one estimate size costs and takes, and on what basis. */
export const ForecastSize = z
  .object({
    size: z.enum(['XS', 'S', 'M', 'L', 'XL']),
    /** `history`: the mean of `samples` finished tasks of this project; `default`: the documented table. */
    basis: z.enum(['history', 'default']),
    samples: z.number().int(),
    cost_usd: z.number(),
    tokens: z.number(),
    minutes: z.number(),
  })
  .openapi('ForecastSize');

/** GET /tickets/:id/forecast: the expected cost and time of the ticket's task graph. */
export const Forecast = z
  .object({
    ticket_id: z.string(),
    ref: z.string(),
    tasks: z.array(
      z.object({
        spec_task_id: z.string(),
        title: z.string().nullable(),
        estimate: z.string().nullable(),
        /** The estimate as a size; a task without a readable estimate counts as M. */
        size: z.enum(['XS', 'S', 'M', 'L', 'XL']),
        depends_on: z.array(z.string()),
        cost_usd: z.number(),
        tokens: z.number(),
        minutes: z.number(),
      }),
    ),
    total: z.object({ cost_usd: z.number(), tokens: z.number() }),
    /** The longest chain of dependent tasks, in minutes (tasks off it run alongside). */
    critical_path: z.object({ minutes: z.number(), tasks: z.array(z.string()) }),
    /** The per-size figures used, with their basis. */
    basis: z.array(ForecastSize),
    note: z.string().nullable(),
    /** The forecast against the remaining budget (`over`: approving needs confirm_over_budget). */
    budget: z
      .object({
        remaining_usd: z.number().nullable(),
        remaining_tokens: z.number().nullable(),
        over: z.boolean(),
      })
      .optional(),
  })
  .openapi('Forecast');
export type Forecast = z.infer<typeof Forecast>;

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
    /** The ticket's pull request (issue 13), once its integration step opened one. */
    pull_request: PullRequest.nullable().optional(),
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
    claimed_by: z.string().nullable(),
    lease_until: timestamp.nullable(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    run_after: timestamp.nullable(),
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
    /** What the run produced (the worker's outcome: branch, commit, usage, …); null until it ends. */
    result: z.unknown(),
    error: z.string().nullable(),
    /** Ids of the tasks this one waits for. */
    depends_on: z.array(z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Task');

/** Every event type of the catalogue (src/contracts/events.ts). */
const EventType = z.enum(EVENT_TYPES);

export const Event = z
  .object({
    id: z.number().int(),
    type: EventType,
    ts: timestamp,
    project_id: z.string().nullable(),
    ticket_id: z.string().nullable(),
    task_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

/** One requirement item of a requirements document (`### REQ-…` with its EARS line and criteria). */
export const RequirementItem = z
  .object({
    id: z.string(),
    title: z.string(),
    line: z.number().int(),
    ears: z.string().nullable(),
    criteria: z.array(z.object({ text: z.string(), done: z.boolean() })),
  })
  .openapi('RequirementItem');

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
    /** The requirement items of a requirements document; null for other kinds. */
    items: z.array(RequirementItem).nullable(),
    created_at: timestamp,
    updated_at: timestamp,
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

/** Which project a ticket ref (`TKT-001`) belongs to, when refs repeat across projects. */
export const TicketRefQuery = z.object({
  project_id: z.string().max(100).optional(),
});

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

/** A worker's event: a catalogue type (the route refuses the server's own with 403). */
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
    /** Report what the sync would create, update or leave unchanged, and store nothing. */
    dry_run: z.boolean().optional(),
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

/** What a key may do: admin everything, member tickets/tasks/answers/spec sync and reading, read GET only. */
export const KEY_ROLES = ['admin', 'member', 'read'] as const;
export const KeyRole = z
  .enum(KEY_ROLES)
  .openapi({ description: 'admin: everything; member: tickets, tasks, answers, spec sync; read: GET only' });

export const CreateKey = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    role: KeyRole.optional().openapi({ description: 'default admin' }),
    expires_in: z
      .string()
      .max(20)
      .optional()
      .openapi({ description: 'a lifetime such as 30d, 12h, 90m, 2w, or never (the default)' }),
  })
  .openapi('CreateKey');

/** An API key as listed (never the key itself, which only its creation answer holds). */
export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: KeyRole,
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

/** The web UI's login: a key, exchanged for an HttpOnly session cookie. */
export const Login = z.strictObject({ key: z.string().min(1).max(500) }).openapi('Login');

/** Who a request acts as (`local`: the key-less user of a loopback server). */
export const Session = z
  .object({
    kind: z.enum(['local', 'api_key']),
    role: KeyRole,
    name: z.string().nullable(),
    expires_at: z.string().nullable(),
  })
  .openapi('Session');

export type KeyRole = z.infer<typeof KeyRole>;
export type ApiKey = z.infer<typeof ApiKey>;
export type Session = z.infer<typeof Session>;

export const SpecQuery = z.object({
  kind: z.enum(['prd', 'requirements', 'design', 'ticket', 'task']).optional(),
});

export type ProjectSettings = z.infer<typeof ProjectSettings>;
export type ExecutionConfig = z.infer<typeof ExecutionConfig>;
export type Project = z.infer<typeof Project>;
export type Ticket = z.infer<typeof Ticket>;
export type Task = z.infer<typeof Task>;
export type SpecDocument = z.infer<typeof SpecDocument>;
export type SyncResult = z.infer<typeof SyncResult>;

// Responses. Every route answers with one of these (lists are wrapped in an object named after
// what they hold), so a client reads `body.tickets`, never guesses.

export const ProjectList = z.object({ projects: z.array(Project) }).openapi('ProjectList');
/** A ticket as the list shows it: with its spend, so a board needs no request per card. */
export const TicketListItem = Ticket.extend({ spend: TicketSpend }).openapi('TicketListItem');
export const TicketList = z.object({ tickets: z.array(TicketListItem) }).openapi('TicketList');
export const TaskList = z.object({ tasks: z.array(Task) }).openapi('TaskList');
export const DocumentList = z.object({ documents: z.array(SpecDocument) }).openapi('SpecDocumentList');
export const EventList = z.object({ events: z.array(Event) }).openapi('EventList');

/** POST /tickets: the ticket and its first task. */
export const CreatedTicket = z.object({ ticket: Ticket, task: Task }).openapi('CreatedTicket');

/** GET /tickets/:id: the ticket with its tasks, synced spec documents and latest events. */
export const TicketDetail = Ticket.extend({
  tasks: z.array(Task),
  /** Every question its agents asked, open ones first, then by time (src/contracts/questions.ts). */
  questions: z.array(Question).optional(),
  spec_documents: z.array(SpecDocument),
  events: z.array(Event),
}).openapi('TicketDetail');

/** POST /tickets/:id/approve. `created` is 0 when the ticket was already approved. */
export const ApprovalResult = z
  .object({ ticket: Ticket, tasks: z.array(Task), created: z.number().int() })
  .openapi('ApprovalResult');

/** GET /tasks/:id: a task with its ticket and project (what a worker needs to run it). */
export const TaskDetail = Task.extend({
  ticket: Ticket.nullable(),
  /** A worker's view leaves out repo_url: a sandbox knows its repository only as the git broker. */
  project: Project.pick({ id: true, name: true, repo_url: true, default_branch: true }).partial({
    repo_url: true,
  }),
  /** What an implementation or integration run merges, verifies and records; null for spec runs. */
  delivery: DeliveryBrief.nullable().optional(),
  /** Set when the run resumes after a person answered: the answer and the conversation to continue. */
  resume: ResumeBrief.nullable().optional(),
  /** The ticket's answered questions, to record in the spec as clarifications. */
  clarifications: z.array(Question).optional(),
}).openapi('TaskDetail');

export type ProjectList = z.infer<typeof ProjectList>;
export type TicketListItem = z.infer<typeof TicketListItem>;
export type TicketList = z.infer<typeof TicketList>;
export type TaskList = z.infer<typeof TaskList>;
export type DocumentList = z.infer<typeof DocumentList>;
export type EventList = z.infer<typeof EventList>;
export type CreatedTicket = z.infer<typeof CreatedTicket>;
/** The detail's events are the catalogue's (the schema checks them as {type, data} objects). */
export type TicketDetail = Omit<z.infer<typeof TicketDetail>, 'events'> & { events: OmoiEvent[] };
export type RequirementItem = z.infer<typeof RequirementItem>;
export type ApprovalResult = z.infer<typeof ApprovalResult>;
export type TaskDetail = z.infer<typeof TaskDetail>;
