-- V017: the write path's tables. Room on each page for the rows every insert updates. A transaction written updates its
-- month's totals row, its day's flows row and, in a category with a budget, the budget's spent
-- amount. Stored full (the default fillfactor 100), such an update found no room on the row's
-- page, so it wrote the new version elsewhere and a new entry into each of the table's indexes:
-- 16 of 23,657 budget updates and 2,081 of 13,376 daily-flows updates of a benchmark run were HOT
-- (heap-only). With room left on each page the new version stays on the page and no index is
-- touched; measured on the benchmark's data, 358 -> 331 µs of server time per single-row insert.
-- Only pages written from now on keep the room (no table is rewritten here: that would lock it); a
-- DBA may rewrite them in a quiet hour (docs/operations.md, HOT updates).
ALTER TABLE bank.budgets SET (fillfactor = 70);
ALTER TABLE bank.monthly_totals SET (fillfactor = 80);
ALTER TABLE bank.daily_flows SET (fillfactor = 80);

-- Whether a budget counts the totals row, so that an insert updates budgets only when one does: a
-- budget UPDATE that matched nothing cost 30 of 315 µs of a single-row insert in a category without
-- a budget (most categories). Set by the budget's trigger (bank.tg_budgets__init_spent) under the
-- totals row's lock, never cleared (a budget deleted leaves it true: one UPDATE that finds nothing).
-- A constant default: a change of the catalog only. Then the rows of existing budgets, made where a
-- rebuild left none (it keeps only months with transactions).
ALTER TABLE bank.monthly_totals ADD COLUMN has_budget boolean NOT NULL DEFAULT FALSE;
COMMENT ON COLUMN bank.monthly_totals.has_budget IS
'A budget counts this row (or did): inserts update budgets.spent_amount only then. Set by the budgets'' trigger.';
INSERT INTO bank.monthly_totals AS t (user_id, month, category, has_budget)
SELECT
    b.user_id,
    make_date(b.year, b.month, 1),
    b.category,
    TRUE
FROM bank.budgets AS b
ORDER BY 1, 2, 3
ON CONFLICT (user_id, month, category) DO UPDATE SET has_budget = TRUE;
