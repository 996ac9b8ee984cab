-- One event append as one statement (src/core/events.ts). Appends take a transaction-scoped
-- advisory lock before their id is drawn, so events commit in id order (what lets SSE resume
-- from Last-Event-ID with no gap); every other appender of every process waits on that lock until
-- the holder commits. Taking it, inserting and notifying in one round trip keeps the client's
-- round trips out of the time it is held; an append made on its own (no enclosing transaction)
-- commits in the same statement, so it is held for the insert and the commit alone.
CREATE FUNCTION omoi_append_event(p_type text, p_project uuid, p_ticket uuid, p_task uuid, p_data jsonb)
RETURNS SETOF events
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  appended events%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(727002);
  INSERT INTO events (type, project_id, ticket_id, task_id, data)
  VALUES (p_type, p_project, p_ticket, p_task, p_data)
  RETURNING * INTO appended;
  PERFORM pg_notify('omoi_events', appended.id::text);
  RETURN NEXT appended;
END
$$;
