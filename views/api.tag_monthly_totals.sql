-- Spending and income per tag and month, computed from the tagged transactions (tags keep no
-- totals of their own, and never change bank.monthly_totals). What counts is what counts in the
-- monthly totals: regular transactions, in the base currency. A transaction with two tags counts
-- in both, so tags' totals never add up to the month's.
-- The cost follows the tag's links, not the user's history: each linked transaction is read by
-- its primary key in its month's partition, from a LATERAL subquery (LIMIT 1: the key finds one
-- row) that the planner does not flatten into a join it would answer, taking every user for an
-- average one, with a scan of all the user's rows.
CREATE OR REPLACE VIEW api.tag_monthly_totals WITH (security_invoker = TRUE) AS
SELECT
    l.user_id,
    l.tag_id,
    g.name AS tag_name,
    date_trunc('month', l.txn_date)::date AS month,
    round(coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'debit'), 0), c.minor_unit) AS spending,
    round(coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'credit'), 0), c.minor_unit) AS income,
    count(*) AS txn_count,
    u.base_currency AS currency
FROM bank.transaction_tags AS l
CROSS JOIN
    LATERAL (
        SELECT
            x.base_amount,
            x.txn_type
        FROM bank.transactions AS x
        WHERE x.user_id = l.user_id AND x.txn_date = l.txn_date AND x.id = l.transaction_id AND x.kind = 'regular'
        LIMIT 1  -- noqa: AM09
    ) AS t
INNER JOIN bank.tags AS g ON l.user_id = g.user_id AND l.tag_id = g.id
INNER JOIN bank.users AS u ON l.user_id = u.id
INNER JOIN bank.currencies AS c ON u.base_currency = c.code
GROUP BY l.user_id, l.tag_id, g.name, date_trunc('month', l.txn_date)::date, u.base_currency, c.minor_unit;
COMMENT ON VIEW api.tag_monthly_totals IS
'Spending, income and count of the regular transactions carrying each tag, per month (its first day), in the '
'user''s base currency: WHERE tag_id = $1 ORDER BY month, or WHERE month = ''2025-03-01''. Tags never change '
'the monthly totals; a transaction with two tags counts in both.';
