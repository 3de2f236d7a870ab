-- Undo V014. The functions of functions/ that name the tables below go first: their files are
-- applied again by the next migrate, which forgets every repeatable script after a rollback.
-- The totals trigger of bank.transactions names bank.daily_flows too: it is put back as before
-- V014 by that next migrate.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.balance_history(bigint, date, date);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.net_worth_history(date, date, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.flows_from_raw_rows(bigint);
DROP TRIGGER IF EXISTS _600_balance_history_insert ON bank.accounts;
DROP TRIGGER IF EXISTS _600_balance_history_update ON bank.accounts;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_accounts__balance_history();
DROP TABLE bank.account_balances;
DROP TABLE bank.daily_flows;
