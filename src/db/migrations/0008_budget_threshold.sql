-- Budgets (src/core/budgets.ts): the `budget.threshold` event fires once per scope and unit. Its
-- data.key names them (`ticket:<id>:usd`, `daily:<project>:<day>:tokens`); the unique index makes a
-- second append fail, also when two servers sharing the database cross the threshold together.
CREATE UNIQUE INDEX events_budget_threshold_once ON events ((data->>'key')) WHERE type = 'budget.threshold';
