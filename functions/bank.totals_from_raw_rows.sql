-- What the raw rows say the derived totals are: the one definition bank.verify_totals compares
-- with and bank.rebuild_totals writes (the triggers apply the same rules row by row).
CREATE OR REPLACE FUNCTION bank.totals_from_raw_rows(p_user_id bigint DEFAULT NULL)
RETURNS TABLE (user_id bigint, month date, category text, spending numeric, income numeric, txn_count bigint)
LANGUAGE sql
STABLE
AS $$
    SELECT
        t.user_id,
        date_trunc('month', t.txn_date)::date,
        coalesce(t.category, 'Other'),
        coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'debit'), 0),
        coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'credit'), 0),
        count(*)
    FROM bank.transactions AS t
    WHERE t.kind = 'regular' AND (p_user_id IS NULL OR t.user_id = p_user_id)
    GROUP BY 1, 2, 3
$$;
COMMENT ON FUNCTION bank.totals_from_raw_rows(bigint) IS
'Monthly totals recomputed from bank.transactions (regular only, uncategorized as Other), for one user or all.';
