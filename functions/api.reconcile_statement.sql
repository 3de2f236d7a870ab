-- Reconciles one of the acting user's statements: closing - opening must equal the credits minus
-- the debits of its account dated in its period (every kind: a transfer or a card payment moves
-- the balance as much as a purchase), in the statement's currency. `amount` is what the account
-- moved, in the transaction's currency; base_amount is the user's base currency at our rate, which
-- is not what the bank booked, so it never enters here. A row in another currency than the
-- statement's cannot be compared exactly (the bank converted it at its own rate): BKST3.
--
-- The rows are marked first and summed from what the UPDATE marked, so a transaction committed by
-- another session meanwhile is either counted and marked or neither. When the sums differ, the
-- error (BKST1) names the difference and the raise undoes the marking: nothing changes.
-- SECURITY DEFINER: it writes transactions.statement_id and statements.reconciled_at, which
-- applications may not write; it acts for the acting user only.
CREATE OR REPLACE FUNCTION api.reconcile_statement(p_statement_id bigint)
RETURNS bank.statements
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_statement bank.statements;
    v_minor_unit smallint;
    v_credits numeric;
    v_debits numeric;
    v_count bigint;
    v_other_count bigint;
    v_other_currencies text;
    v_expected numeric;
BEGIN
    -- Locked: two sessions reconciling (or un-reconciling) one statement take turns.
    SELECT * INTO v_statement FROM bank.statements AS s
    WHERE s.user_id = v_user_id AND s.id = p_statement_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.reconcile_statement: no statement % for user %', p_statement_id, v_user_id
            USING ERRCODE = 'BKNF1', HINT = 'api.statements lists the acting user''s statements.';
    END IF;
    IF v_statement.reconciled_at IS NOT NULL THEN
        RAISE EXCEPTION 'statement % (account %, % to %) is already reconciled', v_statement.id,
            v_statement.account_id, v_statement.period_start, v_statement.period_end
            USING ERRCODE = 'BKST4', HINT = format('api.unreconcile_statement(%s) first.', v_statement.id);
    END IF;
    SELECT c.minor_unit INTO v_minor_unit FROM bank.currencies AS c WHERE c.code = v_statement.currency;

    WITH marked AS (
        UPDATE bank.transactions AS t
        SET statement_id = v_statement.id
        WHERE
            t.user_id = v_user_id AND t.account_id = v_statement.account_id
            AND t.txn_date >= v_statement.period_start AND t.txn_date <= v_statement.period_end
        RETURNING t.txn_type, t.amount, t.currency
    )
    SELECT
        coalesce(sum(m.amount) FILTER (WHERE m.txn_type = 'credit' AND m.currency = v_statement.currency), 0),
        coalesce(sum(m.amount) FILTER (WHERE m.txn_type = 'debit' AND m.currency = v_statement.currency), 0),
        count(*),
        count(*) FILTER (WHERE m.currency <> v_statement.currency),
        string_agg(DISTINCT m.currency, ', ' ORDER BY m.currency) FILTER (WHERE m.currency <> v_statement.currency)
    INTO v_credits, v_debits, v_count, v_other_count, v_other_currencies
    FROM marked AS m;

    IF v_other_count > 0 THEN
        RAISE EXCEPTION 'statement % (account %, % to %) cannot be reconciled: % of its % transactions are in %, '
            'not in the statement''s %', v_statement.id, v_statement.account_id, v_statement.period_start,
            v_statement.period_end, v_other_count, v_count, v_other_currencies, v_statement.currency
            USING
                ERRCODE = 'BKST3',
                HINT = 'A statement compares amounts in its account''s currency; record those transactions in it.';
    END IF;
    v_expected := v_statement.closing_balance - v_statement.opening_balance;
    IF v_expected <> v_credits - v_debits THEN
        RAISE EXCEPTION 'statement % (account %, % to %) does not reconcile: closing - opening = % % but credits - '
            'debits = % % (difference % %)', v_statement.id, v_statement.account_id, v_statement.period_start,
            v_statement.period_end, round(v_expected, v_minor_unit), v_statement.currency,
            round(v_credits - v_debits, v_minor_unit), v_statement.currency,
            round(v_expected - (v_credits - v_debits), v_minor_unit), v_statement.currency
            USING
                ERRCODE = 'BKST1',
                DETAIL = format(
                    'opening %s, closing %s, credits %s, debits %s, %s transaction(s) from %s to %s.',
                    v_statement.opening_balance, v_statement.closing_balance, round(v_credits, v_minor_unit),
                    round(v_debits, v_minor_unit), v_count, v_statement.period_start, v_statement.period_end
                ),
                HINT = 'A missing or extra transaction in the period, or a balance typed wrong; nothing was changed.';
    END IF;

    UPDATE bank.statements AS s SET reconciled_at = now()
    WHERE s.user_id = v_user_id AND s.id = v_statement.id
    RETURNING * INTO v_statement;
    RETURN v_statement;
END;
$$;
COMMENT ON FUNCTION api.reconcile_statement(bigint) IS
'Reconciles the acting user''s statement: closing - opening must equal its account''s credits - debits in the period '
'(BKST1 names the difference, BKST3 a transaction in another currency; nothing changes), then marks those '
'transactions (statement_id) and the statement (reconciled_at); returns the statement.';
