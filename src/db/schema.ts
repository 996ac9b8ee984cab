// The drizzle view of the tables created by src/db/migrations/*.sql (the SQL files are the source
// of truth; this file mirrors them for typed queries). Keep the two in step when adding a migration.
import { sql } from 'drizzle-orm';
import {
  bigserial,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

export interface ProjectSettings {
  /** How many tasks of this project may run at once. */
  concurrency_limit?: number;
  /** Approve spec sets without a person (tasks start as soon as the specs sync). */
  auto_approve?: boolean;
}

/** What a task's sandbox must do; see DESIGN.md. */
export interface ExecutionConfig {
  require_spec_skill: boolean;
  selected_skill?: string;
}

export const projects = pgTable('projects', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  repoUrl: text('repo_url').notNull(),
  defaultBranch: text('default_branch').notNull().default('main'),
  settings: jsonb('settings').$type<ProjectSettings>().notNull().default({}),
  ticketSeq: integer('ticket_seq').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    ref: text('ref').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    workflowMode: text('workflow_mode').$type<'quick' | 'spec_driven'>().notNull(),
    status: text('status')
      .$type<'backlog' | 'analyzing' | 'building' | 'testing' | 'done' | 'blocked'>()
      .notNull()
      .default('backlog'),
    priority: text('priority').$type<'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW'>().notNull().default('MEDIUM'),
    approvedAt: ts('approved_at'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.projectId, t.number), unique().on(t.projectId, t.ref)],
);

export const tasks = pgTable('tasks', {
  id: uuid('id').primaryKey().defaultRandom(),
  projectId: uuid('project_id')
    .notNull()
    .references(() => projects.id, { onDelete: 'cascade' }),
  ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  taskType: text('task_type').notNull().default('implementation'),
  executionMode: text('execution_mode').$type<'exploration' | 'implementation'>().notNull(),
  executionConfig: jsonb('execution_config')
    .$type<ExecutionConfig>()
    .notNull()
    .default(sql`'{"require_spec_skill": false}'::jsonb`),
  status: text('status')
    .$type<'pending' | 'claimed' | 'running' | 'completed' | 'failed' | 'cancelled' | 'blocked'>()
    .notNull()
    .default('pending'),
  priority: text('priority').$type<'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW'>().notNull().default('MEDIUM'),
  branch: text('branch'),
  specTaskId: text('spec_task_id'),
  claimedBy: text('claimed_by'),
  leaseUntil: ts('lease_until'),
  attempts: integer('attempts').notNull().default(0),
  maxAttempts: integer('max_attempts').notNull().default(3),
  runAfter: ts('run_after'),
  startedAt: ts('started_at'),
  finishedAt: ts('finished_at'),
  result: jsonb('result'),
  error: text('error'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const taskDependencies = pgTable(
  'task_dependencies',
  {
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    dependsOnTaskId: uuid('depends_on_task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.dependsOnTaskId] })],
);

export const sandboxes = pgTable('sandboxes', {
  id: uuid('id').primaryKey().defaultRandom(),
  taskId: uuid('task_id')
    .notNull()
    .references(() => tasks.id, { onDelete: 'cascade' }),
  provider: text('provider').notNull(),
  externalId: text('external_id'),
  status: text('status').notNull(),
  createdAt: createdAt(),
  destroyedAt: ts('destroyed_at'),
});

export const specDocuments = pgTable(
  'spec_documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    specId: text('spec_id').notNull(),
    kind: text('kind').$type<'prd' | 'requirements' | 'design' | 'ticket' | 'task'>().notNull(),
    path: text('path').notNull(),
    ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'set null' }),
    title: text('title'),
    status: text('status'),
    frontmatter: jsonb('frontmatter').$type<Record<string, unknown>>().notNull().default({}),
    body: text('body').notNull().default(''),
    contentHash: text('content_hash').notNull(),
    items: jsonb('items'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.projectId, t.specId)],
);

export const specLinks = pgTable(
  'spec_links',
  {
    fromDoc: uuid('from_doc')
      .notNull()
      .references(() => specDocuments.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    target: text('target').notNull(),
    toDoc: uuid('to_doc').references(() => specDocuments.id, { onDelete: 'set null' }),
  },
  (t) => [primaryKey({ columns: [t.fromDoc, t.kind, t.target] })],
);

export const events = pgTable('events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  type: text('type').notNull(),
  ts: ts('ts').notNull().defaultNow(),
  projectId: uuid('project_id'),
  ticketId: uuid('ticket_id'),
  taskId: uuid('task_id'),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
});

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  createdAt: createdAt(),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
});

export const workerTokens = pgTable('worker_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  taskId: uuid('task_id')
    .notNull()
    .references(() => tasks.id, { onDelete: 'cascade' }),
  projectId: uuid('project_id')
    .notNull()
    .references(() => projects.id, { onDelete: 'cascade' }),
  ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'cascade' }),
  expiresAt: ts('expires_at').notNull(),
  createdAt: createdAt(),
  revokedAt: ts('revoked_at'),
});
