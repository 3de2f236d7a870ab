-- Releases a reconciled statement of the acting user and its transactions, which may then change
-- again (and the statement with them). SECURITY DEFINER, as api.reconcile_statement.
CREATE OR REPLACE FUNCTION api.unreconcile_statement(p_statement_id bigint)
RETURNS bank.statements
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_statement bank.statements;
BEGIN
    SELECT * INTO v_statement FROM bank.statements AS s
    WHERE s.user_id = v_user_id AND s.id = p_statement_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.unreconcile_statement: no statement % for user %', p_statement_id, v_user_id
            USING ERRCODE = 'BKNF1', HINT = 'api.statements lists the acting user''s statements.';
    END IF;
    IF v_statement.reconciled_at IS NULL THEN
        RAISE EXCEPTION 'statement % (account %, % to %) is not reconciled', v_statement.id,
            v_statement.account_id, v_statement.period_start, v_statement.period_end
            USING ERRCODE = 'BKST4';
    END IF;
    -- Through the account's index over the period: a reconciled row keeps its account and date.
    UPDATE bank.transactions AS t
    SET statement_id = NULL
    WHERE
        t.user_id = v_user_id AND t.account_id = v_statement.account_id
        AND t.txn_date >= v_statement.period_start AND t.txn_date <= v_statement.period_end
        AND t.statement_id = v_statement.id;
    UPDATE bank.statements AS s SET reconciled_at = NULL
    WHERE s.user_id = v_user_id AND s.id = v_statement.id
    RETURNING * INTO v_statement;
    RETURN v_statement;
END;
$$;
COMMENT ON FUNCTION api.unreconcile_statement(bigint) IS
'Releases the acting user''s reconciled statement and its transactions (BKST4 when it is not reconciled, BKNF1 '
'when the user has no such statement); returns the statement.';
