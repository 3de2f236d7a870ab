-- Undo V012. The functions and views of functions/ and views/ that name the tables or the
-- extensions go first: the next migrate applies those files again (a rollback forgets every
-- repeatable script).
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.tagged_transactions;
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.tag_monthly_totals;
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.tags;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.search_transactions(text, date, date, integer);
DROP TRIGGER IF EXISTS _600_tags_update ON bank.transactions;
DROP TRIGGER IF EXISTS _600_tags_delete ON bank.transactions;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transactions__tags();
DROP TABLE bank.transaction_tags;
DROP TABLE bank.tags;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transaction_tags__check_transaction();
-- A rollback runs in the runner's transaction, where CONCURRENTLY is refused; the index goes
-- with a short ACCESS EXCLUSIVE lock (dropping is quick, unlike building).
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX bank.transactions_user_id_description_merchant_idx;
-- squawk-ignore ban-drop-extension
DROP EXTENSION btree_gin;
-- squawk-ignore ban-drop-extension
DROP EXTENSION pg_trgm;
DROP SCHEMA ext;
