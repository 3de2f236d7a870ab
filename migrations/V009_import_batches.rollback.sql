-- Undo V009. The imported transactions stay (as direct writes would); only their batch id goes.
-- The functions of functions/ that name the tables below go first: their files are applied again
-- by the next migrate, which forgets every repeatable script after a rollback.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.import_staged(bigint, text, text, boolean);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.import_transactions(bigint, jsonb, text, text, boolean);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.undo_import(bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.import_check(jsonb, bigint, bigint, text);
DROP TRIGGER IF EXISTS _600_external_ids_insert ON bank.transactions;
DROP TRIGGER IF EXISTS _600_external_ids_update ON bank.transactions;
DROP TRIGGER IF EXISTS _600_external_ids_delete ON bank.transactions;
-- squawk-ignore ban-drop-column
ALTER TABLE bank.transactions DROP COLUMN import_batch_id;
DROP TABLE bank.transaction_external_ids;
DROP TABLE bank.import_batches;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transactions__external_ids();
