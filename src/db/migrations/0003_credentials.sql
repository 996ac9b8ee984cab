-- Project credentials (src/core/credentials.ts): one per project, the secret sealed with AES-256-GCM
-- under the server's secret key (OMOI_SECRET_KEY or <data>/secret.key). The plain secret is never
-- stored and never returned by a route.
CREATE TABLE project_credentials (
  project_id uuid PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('https_token', 'ssh_key')),
  -- shown to people (https_token only); not secret
  username text,
  -- base64 of iv (12 bytes) | auth tag (16 bytes) | ciphertext of the JSON secret; the project id is
  -- the additional authenticated data, so a sealed value moved to another project does not open
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Model calls brokered by the server (src/broker/model.ts): one row per call, tokens and cost
-- (when the upstream reports one) per task, for budgets.
CREATE TABLE model_usage (
  id bigserial PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  api text NOT NULL CHECK (api IN ('openai', 'anthropic')),
  model text,
  input_tokens integer NOT NULL DEFAULT 0,
  output_tokens integer NOT NULL DEFAULT 0,
  cost_usd double precision,
  status integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_usage_task_idx ON model_usage (task_id, created_at);
