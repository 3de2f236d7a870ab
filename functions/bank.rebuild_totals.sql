-- Recomputes every derived total from the raw rows, for one user or all: the repair for whatever
-- bank.verify_totals reports (after a TRUNCATE, a restore of part of the data, a bug).
CREATE OR REPLACE FUNCTION bank.rebuild_totals(p_user_id bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_since date := coalesce(bank.transaction_history_start(), '-infinity');
    v_count integer;
BEGIN
    -- Writers wait until the rebuild commits (readers do not): no change can slip between the
    -- read of the raw rows and the write of the totals.
    LOCK TABLE bank.transactions IN SHARE ROW EXCLUSIVE MODE;
    LOCK TABLE bank.reward_entries IN SHARE ROW EXCLUSIVE MODE;

    DELETE FROM bank.monthly_totals
    WHERE (p_user_id IS NULL OR user_id = p_user_id) AND month >= v_since;
    INSERT INTO bank.monthly_totals (user_id, month, category, spending, income, txn_count)
    SELECT * FROM bank.totals_from_raw_rows(p_user_id)
    ORDER BY 1, 2, 3;
    GET DIAGNOSTICS v_count = ROW_COUNT;

    UPDATE bank.budgets AS b
    SET spent_amount = coalesce(m.spending, 0)
    FROM bank.budgets AS x
    LEFT JOIN bank.monthly_totals AS m
        ON (m.user_id, m.month, m.category) = (x.user_id, make_date(x.year, x.month, 1), x.category)
    WHERE (b.user_id, b.id) = (x.user_id, x.id)
        AND (p_user_id IS NULL OR b.user_id = p_user_id)
        AND b.spent_amount <> coalesce(m.spending, 0);

    UPDATE bank.rewards AS r
    SET points_balance = l.points
    FROM bank.points_from_ledger(p_user_id) AS l
    WHERE (r.user_id, r.id) = (l.user_id, l.reward_id) AND r.points_balance <> l.points;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.rebuild_totals(bigint) IS
'Recomputes monthly_totals (from the oldest partition on), budgets.spent_amount and rewards.points_balance from '
'the raw rows, for one user or all; blocks writers to transactions while it runs. Returns the totals rows written.';
