-- Outgoing webhooks (src/notify/). A project's webhooks live in projects.settings.webhooks without
-- their secrets and with their URL masked; each secret is sealed here with the full URL (many webhook
-- URLs carry a token), AES-256-GCM under the server's secret key as project credentials, and never
-- returned by a route.
CREATE TABLE webhook_secrets (
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  webhook_id text NOT NULL,
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, webhook_id)
);

-- One row per (webhook, event): the body to send (signed anew at each attempt), where it stands,
-- and what the receiver last answered. Pending rows survive a restart and are retried.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  webhook_id text NOT NULL,
  event_id bigint NOT NULL,
  -- the webhook event name (ticket.done, task.failed, …), not the Omoi event type
  event text NOT NULL,
  -- the masked URL (as the settings show it); the full one stays sealed
  url text NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  response_code integer,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_project_idx ON webhook_deliveries (project_id, created_at);

-- How far the dispatcher has read the event log. It starts at the newest event: webhooks fire for
-- what happens from now on, not for history.
CREATE TABLE webhook_cursor (
  name text PRIMARY KEY,
  last_event_id bigint NOT NULL
);
INSERT INTO webhook_cursor (name, last_event_id) SELECT 'webhooks', coalesce(max(id), 0) FROM events;
