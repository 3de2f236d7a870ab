-- The seed's query 4.
CREATE OR REPLACE VIEW api.overdue_bills WITH (security_invoker = TRUE) AS
SELECT
    b.user_id,
    b.id,
    b.biller_name,
    b.due_date,
    b.amount_due,
    b.currency,
    current_date - b.due_date AS days_overdue
FROM bank.bills AS b
WHERE b.status = 'overdue';
COMMENT ON VIEW api.overdue_bills IS 'Bills past due and unpaid, oldest first: ORDER BY due_date.';
