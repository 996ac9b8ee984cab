-- Omoi's first schema. Forward only: never edit this file once landed; add 0002_*.sql instead.
-- Runs unchanged on PostgreSQL 15 and on PGlite (PostgreSQL 18 inside).

CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  repo_url text NOT NULL,
  default_branch text NOT NULL DEFAULT 'main',
  -- {concurrency_limit?: int, auto_approve?: bool}
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- the last ticket number handed out in this project (TKT-<n>)
  ticket_seq integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tickets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  number integer NOT NULL,
  ref text NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  workflow_mode text NOT NULL CHECK (workflow_mode IN ('quick', 'spec_driven')),
  status text NOT NULL DEFAULT 'backlog'
    CHECK (status IN ('backlog', 'analyzing', 'building', 'testing', 'done', 'blocked')),
  priority text NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
  approved_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, number),
  UNIQUE (project_id, ref)
);
CREATE INDEX tickets_project_idx ON tickets (project_id, created_at);

CREATE TABLE tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ticket_id uuid REFERENCES tickets(id) ON DELETE CASCADE,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  task_type text NOT NULL DEFAULT 'implementation',
  execution_mode text NOT NULL DEFAULT 'implementation'
    CHECK (execution_mode IN ('exploration', 'implementation')),
  -- {require_spec_skill: bool, selected_skill?: string}
  execution_config jsonb NOT NULL DEFAULT '{"require_spec_skill": false}'::jsonb,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'claimed', 'running', 'completed', 'failed', 'cancelled', 'blocked')),
  priority text NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
  branch text,
  -- the spec task (TSK-…) this task was created from on approval, if any
  spec_task_id text,
  -- queue columns (src/queue)
  claimed_by text,
  lease_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  run_after timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  result jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_ticket_idx ON tasks (ticket_id, created_at);
CREATE INDEX tasks_project_status_idx ON tasks (project_id, status);
CREATE INDEX tasks_pending_idx ON tasks (status, run_after) WHERE status = 'pending';

CREATE TABLE task_dependencies (
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  depends_on_task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, depends_on_task_id),
  CHECK (task_id <> depends_on_task_id)
);
CREATE INDEX task_dependencies_reverse_idx ON task_dependencies (depends_on_task_id);

CREATE TABLE sandboxes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  provider text NOT NULL,
  external_id text,
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  destroyed_at timestamptz
);
CREATE INDEX sandboxes_task_idx ON sandboxes (task_id);

CREATE TABLE spec_documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  spec_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('prd', 'requirements', 'design', 'ticket', 'task')),
  path text NOT NULL,
  -- the ticket whose run synced this document (null when synced from outside a run)
  ticket_id uuid REFERENCES tickets(id) ON DELETE SET NULL,
  title text,
  status text,
  frontmatter jsonb NOT NULL DEFAULT '{}'::jsonb,
  body text NOT NULL DEFAULT '',
  content_hash text NOT NULL,
  items jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, spec_id)
);
CREATE INDEX spec_documents_ticket_idx ON spec_documents (ticket_id);

-- References between spec documents, resolved to rows. `target` is the id as written (a task id,
-- a requirement item id, a path); `to_doc` is the document that holds it, null while unresolved.
CREATE TABLE spec_links (
  from_doc uuid NOT NULL REFERENCES spec_documents(id) ON DELETE CASCADE,
  kind text NOT NULL,
  target text NOT NULL,
  to_doc uuid REFERENCES spec_documents(id) ON DELETE SET NULL,
  PRIMARY KEY (from_doc, kind, target)
);
CREATE INDEX spec_links_to_idx ON spec_links (to_doc);

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  type text NOT NULL,
  ts timestamptz NOT NULL DEFAULT now(),
  project_id uuid,
  ticket_id uuid,
  task_id uuid,
  data jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX events_project_idx ON events (project_id, id);
CREATE INDEX events_ticket_idx ON events (ticket_id, id);
CREATE INDEX events_task_idx ON events (task_id, id);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  -- sha256 of the key; the key itself is shown once and never stored
  key_hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE worker_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash text NOT NULL UNIQUE,
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ticket_id uuid REFERENCES tickets(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX worker_tokens_task_idx ON worker_tokens (task_id);
