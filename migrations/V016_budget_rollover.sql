-- V016: budget rollover (issue 15, section 4). A budget can pass what is left of it, or also what
-- it overspent, on to the next month's budget of the same category: budgets.rollover says what it
-- passes on, budgets.carried_in holds what the previous month passed on. carried_in is kept by
-- triggers (functions/bank.tg_budgets__carry_in.sql, bank.tg_budgets__carry_forward.sql) in the
-- statement that changes anything it follows from, through every later month of the chain.
--
-- Every existing budget passes nothing on ('none') and has nothing carried in, which is exactly
-- what the triggers derive for it: no row is rewritten for its value. Both columns have constant
-- defaults, a change of the catalog only (PostgreSQL 11+); the check reads the table once, under
-- the ACCESS EXCLUSIVE lock ALTER TABLE holds anyway (budgets: one row per user, month and
-- category, small beside transactions).
ALTER TABLE bank.budgets
ADD COLUMN rollover text NOT NULL DEFAULT 'none'
CONSTRAINT budgets_rollover_check CHECK (rollover IN ('none', 'surplus_only', 'both_ways')),
ADD COLUMN carried_in numeric NOT NULL DEFAULT 0;
COMMENT ON COLUMN bank.budgets.rollover IS
'What this budget passes on to the next month''s budget of its category: none; surplus_only (what is left of '
'limit + carried_in, never less than 0); both_ways (what is left, negative when overspent). The earlier month''s '
'setting decides what it passes on.';
COMMENT ON COLUMN bank.budgets.carried_in IS
'What the budget of the month before (same user and category) passed on by its rollover; 0 when that month has '
'no budget (the chain breaks). Kept by triggers; negative when an overspend is carried (both_ways).';
