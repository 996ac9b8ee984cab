-- Keys with roles and expiry, browser sessions made from a key, and worker tokens that die with
-- their task's run.

-- Every key made before roles existed could do everything: it stays admin.
ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'admin'
  CHECK (role IN ('admin', 'member', 'read'));
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- A web UI login: the browser holds a random session secret in an HttpOnly cookie; the row holds
-- its sha256 and the key it was made from (revoking the key ends its sessions).
CREATE TABLE api_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_hash text NOT NULL UNIQUE,
  key_id uuid REFERENCES api_keys(id) ON DELETE CASCADE,
  -- the role of the key at login (OMOI_API_KEY has no row: key_id is null, role admin)
  role text NOT NULL CHECK (role IN ('admin', 'member', 'read')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX api_sessions_key_idx ON api_sessions (key_id);

-- A worker token is good only while its task is claimed or running: any status change that ends
-- the run (completed, failed, cancelled, handed back, reaped, retried) revokes it in the same
-- transaction, whichever code path made the change.
CREATE FUNCTION omoi_revoke_task_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE worker_tokens SET revoked_at = now() WHERE task_id = NEW.id AND revoked_at IS NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER tasks_revoke_worker_tokens AFTER UPDATE OF status ON tasks
  FOR EACH ROW WHEN (NEW.status NOT IN ('claimed', 'running'))
  EXECUTE FUNCTION omoi_revoke_task_tokens();
