-- The seed's query 2, from the maintained totals instead of a scan of the transactions.
CREATE OR REPLACE VIEW api.monthly_spending WITH (security_invoker = TRUE) AS
SELECT
    m.user_id,
    m.month,
    m.category,
    m.spending,
    m.income,
    m.txn_count,
    u.base_currency AS currency
FROM bank.monthly_totals AS m
INNER JOIN bank.users AS u ON m.user_id = u.id
WHERE m.txn_count <> 0;
COMMENT ON VIEW api.monthly_spending IS
'Spending, income and count of regular transactions per month (its first day) and category, in the user''s base '
'currency. Select a month with month = ''2025-03-01'' or a range of months.';
