-- Undo V015. The views, triggers and functions of functions/ and views/ that serve only the lines go
-- first; the next migrate applies the repeatable scripts again (a rollback forgets them all). The
-- totals trigger and bank.totals_from_raw_rows, which read the lines too, stay: until that migrate
-- an update or delete of transactions fails naming the missing table, rather than losing totals.
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.transaction_splits;
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.recent_transactions;
DROP TRIGGER IF EXISTS _600_splits_update ON bank.transactions;
DROP TRIGGER IF EXISTS _600_splits_delete ON bank.transactions;
DROP TRIGGER IF EXISTS _700_check_split_sum ON bank.transactions;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transactions__splits();
DROP TABLE bank.transaction_splits;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg__check_split_sum();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transaction_splits__check_transaction();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transaction_splits__totals();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.splits_from_raw_rows(bigint);
