-- Every derived total compared with the raw rows it follows from: monthly totals and budgets with
-- the transactions, reward balances with their ledger. No rows means no drift. A total that is
-- NaN or infinite is drift even when the raw rows say the same (NaN = NaN is true in PostgreSQL).
CREATE OR REPLACE FUNCTION bank.verify_totals(p_user_id bigint DEFAULT NULL)
RETURNS TABLE (subject text, user_id bigint, detail text, expected numeric, actual numeric)
LANGUAGE sql
STABLE
AS $$
    WITH expected AS (
        SELECT * FROM bank.totals_from_raw_rows(p_user_id)
    ),
    kept AS (
        SELECT m.*
        FROM bank.monthly_totals AS m
        WHERE (p_user_id IS NULL OR m.user_id = p_user_id)
            AND m.month >= coalesce(bank.transaction_history_start(), '-infinity')
    ),
    compared AS (
        SELECT
            coalesce(e.user_id, k.user_id) AS user_id,
            format('%s %s', to_char(coalesce(e.month, k.month), 'YYYY-MM'), coalesce(e.category, k.category)) AS detail,
            coalesce(e.spending, 0) AS e_spending, coalesce(k.spending, 0) AS k_spending,
            coalesce(e.income, 0) AS e_income, coalesce(k.income, 0) AS k_income,
            coalesce(e.txn_count, 0) AS e_count, coalesce(k.txn_count, 0) AS k_count
        FROM expected AS e
        FULL JOIN kept AS k ON (e.user_id, e.month, e.category) = (k.user_id, k.month, k.category)
    )
    SELECT 'monthly_totals.spending', c.user_id, c.detail, c.e_spending, c.k_spending
    FROM compared AS c WHERE c.e_spending <> c.k_spending OR c.k_spending IN ('NaN', 'Infinity', '-Infinity')
    UNION ALL
    SELECT 'monthly_totals.income', c.user_id, c.detail, c.e_income, c.k_income
    FROM compared AS c WHERE c.e_income <> c.k_income OR c.k_income IN ('NaN', 'Infinity', '-Infinity')
    UNION ALL
    SELECT 'monthly_totals.txn_count', c.user_id, c.detail, c.e_count, c.k_count
    FROM compared AS c WHERE c.e_count <> c.k_count
    UNION ALL
    SELECT
        'budgets.spent_amount', b.user_id, format('budget %s: %s-%s %s', b.id, b.year, lpad(b.month::text, 2, '0'), b.category),
        coalesce(m.spending, 0), b.spent_amount
    FROM bank.budgets AS b
    LEFT JOIN bank.monthly_totals AS m
        ON (m.user_id, m.month, m.category) = (b.user_id, make_date(b.year, b.month, 1), b.category)
    WHERE (p_user_id IS NULL OR b.user_id = p_user_id)
        AND (b.spent_amount <> coalesce(m.spending, 0) OR b.spent_amount IN ('NaN', 'Infinity', '-Infinity'))
    UNION ALL
    SELECT 'rewards.points_balance', r.user_id, format('reward %s: %s', r.id, r.program_name), l.points, r.points_balance
    FROM bank.rewards AS r
    JOIN bank.points_from_ledger(p_user_id) AS l ON (l.user_id, l.reward_id) = (r.user_id, r.id)
    WHERE r.points_balance <> l.points
    ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION bank.verify_totals(bigint) IS
'Drift between derived totals (monthly_totals, budgets.spent_amount, rewards.points_balance) and the raw rows, '
'for one user or all; no rows when there is none. Months before bank.transaction_history_start() are not checked.';
