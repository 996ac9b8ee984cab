-- The question inbox (issue 15, src/core/questions.ts): an agent's question parks its task in
-- `awaiting_input` (no claim, no lease, no sandbox) until a person answers. The question row keeps
-- the conversation's checkpoint (opaque JSON, written by the runtime that asked) to resume from.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('pending', 'claimed', 'running', 'awaiting_input', 'completed', 'failed', 'cancelled', 'blocked'));

CREATE TABLE task_questions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ticket_id uuid REFERENCES tickets(id) ON DELETE CASCADE,
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  kind text NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent', 'budget')),
  question text NOT NULL,
  options jsonb NOT NULL DEFAULT '[]'::jsonb,
  why text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'cancelled')),
  answer text,
  answered_by text,
  checkpoint jsonb,
  -- A budget question's threshold (`ticket:<id>:usd`, as budget.threshold's key): once a person
  -- said continue for it, runs past that threshold start without asking again.
  budget_key text,
  asked_at timestamptz NOT NULL DEFAULT now(),
  answered_at timestamptz
);
-- At most one open question per task: a second ask while one is open is refused by the database.
CREATE UNIQUE INDEX task_questions_one_open ON task_questions (task_id) WHERE status = 'open';
CREATE INDEX task_questions_task_idx ON task_questions (task_id, asked_at DESC);
CREATE INDEX task_questions_ticket_idx ON task_questions (ticket_id, asked_at);
-- The inbox: open questions, newest last.
CREATE INDEX task_questions_open_idx ON task_questions (asked_at) WHERE status = 'open';
