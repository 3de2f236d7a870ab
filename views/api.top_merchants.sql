-- Per month the user has totals for, a LATERAL aggregate over that month only: the month's bounds
-- reach bank.transactions as parameters of its primary key (user_id, txn_date, id), so one month
-- reads one partition whatever join the planner would otherwise prefer.
CREATE OR REPLACE VIEW api.top_merchants WITH (security_invoker = TRUE) AS
SELECT
    m.user_id,
    m.month,
    x.merchant,
    x.spending,
    x.txn_count
FROM (SELECT DISTINCT
    user_id,
    month
FROM bank.monthly_totals) AS m
CROSS JOIN LATERAL (
    SELECT
        t.merchant,
        sum(t.base_amount) AS spending,
        count(*) AS txn_count
    FROM bank.transactions AS t
    WHERE
        t.user_id = m.user_id
        AND t.txn_date >= m.month
        AND t.txn_date < (m.month + interval '1 month')::date
        AND t.kind = 'regular'
        AND t.txn_type = 'debit'
        AND t.merchant IS NOT NULL
    GROUP BY t.merchant
) AS x;
COMMENT ON VIEW api.top_merchants IS
'Spending per merchant and month, in the user''s base currency: WHERE month = ''2025-03-01'' '
'ORDER BY spending DESC LIMIT 10.';
