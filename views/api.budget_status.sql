-- The seed's query 3, with what is left and a status.
CREATE OR REPLACE VIEW api.budget_status WITH (security_invoker = TRUE) AS
SELECT
    b.user_id,
    b.id,
    b.year,
    b.month,
    b.category,
    b.limit_amount,
    b.spent_amount,
    b.limit_amount - b.spent_amount AS remaining,
    round(b.spent_amount * 100 / b.limit_amount, 2) AS percent_spent,
    CASE
        WHEN b.spent_amount > b.limit_amount THEN 'exceeded'
        WHEN b.spent_amount * 100 >= b.limit_amount * b.warning_percent THEN 'warning'
        ELSE 'ok'
    END AS status,
    u.base_currency AS currency
FROM bank.budgets AS b
INNER JOIN bank.users AS u ON b.user_id = u.id;
COMMENT ON VIEW api.budget_status IS
'Each budget''s limit, spending, remaining amount, percent spent and status (ok, warning at warning_percent, '
'exceeded). Select a month by its key: year = 2025 AND month = 3.';
