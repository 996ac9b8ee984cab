-- A ticket whose spec run passed and synced waits for a person: status awaiting_approval
-- (src/contracts/enums.ts TICKET_STATUSES).
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
  CHECK (status IN ('backlog', 'analyzing', 'awaiting_approval', 'building', 'testing', 'done', 'blocked'));
