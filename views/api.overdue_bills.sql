-- The seed's query 4. Overdue is derived here from the due date, so the dashboard never waits for
-- bank.mark_overdue_bills (the scheduler still stores the status, for reminders).
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
WHERE b.status = 'overdue' OR (b.status = 'upcoming' AND b.due_date < current_date);
COMMENT ON VIEW api.overdue_bills IS
'Bills past due and unpaid (whether or not maintenance has marked them overdue yet), oldest first: ORDER BY due_date.';
