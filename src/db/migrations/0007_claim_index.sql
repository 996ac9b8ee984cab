-- The queue's claim path (src/queue/queue.ts), in one round trip and without sorting the backlog.
--
-- tasks_claim_idx holds pending tasks in the order a claim takes them (priority, then oldest), per
-- project, so the next candidate is the first entry of an index scan instead of a sort of every
-- pending task of the project (the sort, under the project's lock, was most of a claim's time).
CREATE INDEX tasks_claim_idx ON tasks (
  project_id,
  (CASE upper(priority) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 3 ELSE 2 END),
  created_at,
  id
) WHERE status = 'pending';

-- One claim as one statement. Each statement of a volatile function takes a fresh snapshot in READ
-- COMMITTED, so the count of a project's running tasks is read after its row lock is held: two
-- claimers cannot both take a project's last slot. Projects are locked in id order (no deadlock).
CREATE FUNCTION omoi_claim_task(p_claimer text, p_lease_ms double precision, p_default_limit integer)
RETURNS SETOF tasks
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  candidate uuid;
  project_limit integer;
  claimed tasks%ROWTYPE;
BEGIN
  -- Per project one probe along the claim index (LATERAL … LIMIT 1): a semi-join here is planned
  -- as a hash join over every pending task of every project, on every claim.
  FOR candidate IN
    SELECT p.id FROM projects p
     CROSS JOIN LATERAL (
       SELECT 1 FROM tasks t
        WHERE t.project_id = p.id AND t.status = 'pending'
          AND (t.run_after IS NULL OR t.run_after <= now())
          AND NOT EXISTS (
            SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id
             WHERE d.task_id = t.id AND dt.status <> 'completed')
        ORDER BY CASE upper(t.priority) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 3 ELSE 2 END,
                 t.created_at, t.id
        LIMIT 1) ready
     ORDER BY p.id LIMIT 20
  LOOP
    SELECT (p.settings->>'concurrency_limit')::int INTO project_limit
      FROM projects p WHERE p.id = candidate FOR UPDATE;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    UPDATE tasks SET updated_at = now(), status = 'claimed', claimed_by = p_claimer,
           lease_until = now() + make_interval(secs => p_lease_ms / 1000),
           attempts = attempts + 1, started_at = now(), finished_at = NULL, error = NULL
     WHERE id = (
             SELECT t.id FROM tasks t
              WHERE t.project_id = candidate AND t.status = 'pending'
                AND (t.run_after IS NULL OR t.run_after <= now())
                AND NOT EXISTS (
                  SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id
                   WHERE d.task_id = t.id AND dt.status <> 'completed')
              ORDER BY CASE upper(t.priority) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 3 ELSE 2 END,
                       t.created_at, t.id
              LIMIT 1)
       AND status = 'pending'
       AND (SELECT count(*) FROM tasks r
             WHERE r.project_id = candidate AND r.status IN ('claimed', 'running'))
           < coalesce(project_limit, p_default_limit)
    RETURNING * INTO claimed;
    IF FOUND THEN
      RETURN NEXT claimed;
      RETURN;
    END IF;
  END LOOP;
END
$$;
