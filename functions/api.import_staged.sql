-- api.import_transactions for rows the caller copied into its temporary table bank_import_rows
-- (COPY is the fast way in for a file): every column text, so a malformed value is that row's
-- rejection rather than a failed COPY. The columns: line bigint (the row's line in the file, used
-- in rejections; NULL for its position), txn_date, posted_date, amount, txn_type, description,
-- merchant, currency, category, external_id, account_id, unreadable (why the file's reader could not
-- read the row: it is rejected with that); a column the table lacks is NULL.
-- SECURITY INVOKER: a temporary table is its creator's alone; the rows go to the import as jsonb.
CREATE OR REPLACE FUNCTION api.import_staged(
    p_account_id bigint,
    p_source text,
    p_file_sha256 text DEFAULT NULL,
    p_partial boolean DEFAULT FALSE
)
RETURNS bank.import_batches
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_rows jsonb;
BEGIN
    PERFORM bank.acting_user_id();  -- BKUS1 without an acting user, before anything else
    IF to_regclass('pg_temp.bank_import_rows') IS NULL THEN
        RAISE EXCEPTION 'api.import_staged: no temporary table bank_import_rows in this session'
            USING
                ERRCODE = 'undefined_table',
                HINT = 'CREATE TEMPORARY TABLE bank_import_rows (line bigint, txn_date text, amount text, '
                'txn_type text, description text, merchant text, currency text, category text, external_id text), '
                'then COPY the rows into it.';
    END IF;
    -- In line order, then in the order the rows were copied.
    SELECT coalesce(jsonb_agg(jsonb_strip_nulls(to_jsonb(s)) ORDER BY s.line, s.ctid), '[]')
    INTO v_rows
    FROM pg_temp.bank_import_rows AS s;
    RETURN api.import_transactions(p_account_id, v_rows, p_source, p_file_sha256, p_partial);
END;
$$;
COMMENT ON FUNCTION api.import_staged(bigint, text, text, boolean) IS
'api.import_transactions for the rows of the session''s temporary table bank_import_rows (text columns, '
'docs/api.md); returns the batch.';
