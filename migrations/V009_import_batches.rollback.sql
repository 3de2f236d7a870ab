-- Undo V009. The imported transactions stay (as direct writes would); only their batch id goes.
-- The import functions and the external-id trigger come from functions/ and are dropped by the
-- runner with their files; the trigger is dropped here too, as it reads the table dropped below.
DROP TRIGGER IF EXISTS _600_external_ids_insert ON bank.transactions;
DROP TRIGGER IF EXISTS _600_external_ids_update ON bank.transactions;
DROP TRIGGER IF EXISTS _600_external_ids_delete ON bank.transactions;
ALTER TABLE bank.transactions DROP COLUMN import_batch_id;
DROP TABLE bank.transaction_external_ids;
DROP TABLE bank.import_batches;
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM bank_app', current_database());
END;
$$;
