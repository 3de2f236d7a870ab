CREATE OR REPLACE VIEW api.cash_flow WITH (security_invoker = TRUE) AS
SELECT
    m.user_id,
    m.month,
    sum(m.income) AS income,
    sum(m.spending) AS spending,
    sum(m.income) - sum(m.spending) AS net,
    u.base_currency AS currency
FROM bank.monthly_totals AS m
INNER JOIN bank.users AS u ON m.user_id = u.id
-- A budget's month and the month before have a totals row before any transaction (the rows its
-- triggers lock): a month without transactions is not a month of cash flow.
WHERE m.txn_count <> 0
GROUP BY m.user_id, m.month, u.base_currency;
COMMENT ON VIEW api.cash_flow IS
'Income against spending per month, transfers and payments left out, in the user''s base currency.';
