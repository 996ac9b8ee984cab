-- The queue's tables as the tasks-table contract names them (/work/notes/api.md), for the queue
-- suites and bench/run-claim.bench.js; the end-to-end suites use the real migrations instead.
CREATE TABLE projects (id uuid PRIMARY KEY, name text NOT NULL, repo_url text NOT NULL,
  default_branch text NOT NULL DEFAULT 'main', settings jsonb NOT NULL DEFAULT '{}');
CREATE TABLE tickets (id uuid PRIMARY KEY, project_id uuid NOT NULL REFERENCES projects(id), ref text,
  title text, workflow_mode text, status text NOT NULL DEFAULT 'backlog', updated_at timestamptz DEFAULT now());
CREATE TABLE tasks (id uuid PRIMARY KEY, project_id uuid NOT NULL REFERENCES projects(id),
  ticket_id uuid REFERENCES tickets(id), title text NOT NULL, description text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'pending', priority text NOT NULL DEFAULT 'MEDIUM',
  claimed_by text, lease_until timestamptz, attempts int NOT NULL DEFAULT 0, max_attempts int NOT NULL DEFAULT 3,
  run_after timestamptz, started_at timestamptz, finished_at timestamptz, execution_config jsonb,
  task_type text, execution_mode text, branch text, result jsonb, error text,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE task_dependencies (task_id uuid NOT NULL REFERENCES tasks(id),
  depends_on_task_id uuid NOT NULL REFERENCES tasks(id), PRIMARY KEY (task_id, depends_on_task_id));
CREATE TABLE sandboxes (id uuid PRIMARY KEY, task_id uuid NOT NULL REFERENCES tasks(id), provider text NOT NULL,
  external_id text, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz);
-- The claim's access paths: ready tasks of a project in priority order, active tasks of a project.
CREATE INDEX tasks_claim_idx ON tasks (project_id,
  (CASE upper(priority::text) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 3 ELSE 2 END),
  created_at, id) WHERE status = 'pending';
CREATE INDEX tasks_active_idx ON tasks (project_id) WHERE status IN ('claimed', 'running');
CREATE INDEX task_dependencies_on_idx ON task_dependencies (depends_on_task_id);
