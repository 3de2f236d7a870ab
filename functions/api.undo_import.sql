-- Undoes an import batch of the acting user as a whole: its transactions go in one DELETE, so the
-- statement triggers take them out of the totals, budgets and bank ids exactly as any delete; then
-- the batch goes, and with it its file's checksum (the file may be imported again).
-- SECURITY INVOKER: an application may delete its user's transactions and batches itself; this
-- only names the rows. Rows of the batch the user has changed since are removed too.
CREATE OR REPLACE FUNCTION api.undo_import(p_batch_id bigint)
RETURNS bank.import_batches
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_batch bank.import_batches;
BEGIN
    SELECT * INTO v_batch FROM bank.import_batches AS b WHERE b.user_id = v_user_id AND b.id = p_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.undo_import: no import batch % for user %', p_batch_id, v_user_id
            USING ERRCODE = 'BKIM2', HINT = 'bank.import_batches lists the acting user''s batches.';
    END IF;
    -- By the user's primary key: the user's rows only, in every month (an imported row may have
    -- been moved to another date since).
    DELETE FROM bank.transactions AS t WHERE t.user_id = v_user_id AND t.import_batch_id = p_batch_id;
    DELETE FROM bank.import_batches AS b WHERE b.user_id = v_user_id AND b.id = p_batch_id;
    RETURN v_batch;
END;
$$;
COMMENT ON FUNCTION api.undo_import(bigint) IS
'Deletes the acting user''s import batch p_batch_id and every transaction it wrote (totals follow); returns the '
'batch as it was; BKIM2 when the user has no such batch.';
