-- Delivery (issue 13): a ticket's pull/merge request, opened by the server from the ticket's
-- integration branch (src/core/pull-requests.ts), shaped as PullRequest in src/contracts/delivery.ts.
-- pull_request_error holds why the last attempt failed (never a token): a ticket whose project
-- wants a pull request is not done without one. pull_request_for names the integration run (task id
-- and finish time) the last attempt was for, so settling a task twice calls the forge once.
ALTER TABLE tickets ADD COLUMN pull_request jsonb;
ALTER TABLE tickets ADD COLUMN pull_request_error text;
ALTER TABLE tickets ADD COLUMN pull_request_for text;
