-- The seed's query 3, with what is carried in from the month before, what is available, what is
-- left and a status, all against what is available (limit_amount + carried_in).
CREATE OR REPLACE VIEW api.budget_status WITH (security_invoker = TRUE) AS
SELECT
    b.user_id,
    b.id,
    b.year,
    b.month,
    b.category,
    b.limit_amount,
    b.rollover,
    b.carried_in,
    b.limit_amount + b.carried_in AS available,
    b.spent_amount,
    b.limit_amount + b.carried_in - b.spent_amount AS remaining,
    -- No percentage of nothing: NULL when an overspend carried in leaves 0 or less available.
    CASE
        WHEN b.limit_amount + b.carried_in > 0
            THEN round(b.spent_amount * 100 / (b.limit_amount + b.carried_in), 2)
    END AS percent_spent,
    CASE
        WHEN b.spent_amount > b.limit_amount + b.carried_in THEN 'exceeded'
        WHEN b.spent_amount * 100 >= (b.limit_amount + b.carried_in) * b.warning_percent THEN 'warning'
        ELSE 'ok'
    END AS status,
    u.base_currency AS currency
FROM bank.budgets AS b
INNER JOIN bank.users AS u ON b.user_id = u.id;
COMMENT ON VIEW api.budget_status IS
'Each budget''s limit, rollover setting, amount carried in from the month before, available amount (limit + carried '
'in), spending, remaining amount, percent spent of what is available (NULL when 0 or less is available) and status '
'(ok, warning at warning_percent, exceeded). Select a month by its key: year = 2025 AND month = 3.';
