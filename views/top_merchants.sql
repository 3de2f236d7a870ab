-- Driven by the months a user has totals for, so a month chosen by month = ... reaches only that
-- month's partition through the primary key (user_id, txn_date, id).
CREATE OR REPLACE VIEW api.top_merchants WITH (security_invoker = TRUE) AS
SELECT
    m.user_id,
    m.month,
    t.merchant,
    sum(t.base_amount) AS spending,
    count(*) AS txn_count
FROM (SELECT DISTINCT
    user_id,
    month
FROM bank.monthly_totals) AS m
INNER JOIN bank.transactions AS t
    ON
        m.user_id = t.user_id
        AND m.month <= t.txn_date
        AND t.txn_date < (m.month + interval '1 month')::date
WHERE t.kind = 'regular' AND t.txn_type = 'debit' AND t.merchant IS NOT NULL
GROUP BY m.user_id, m.month, t.merchant;
COMMENT ON VIEW api.top_merchants IS
'Spending per merchant and month, in the user''s base currency: WHERE month = ''2025-03-01'' '
'ORDER BY spending DESC LIMIT 10.';
