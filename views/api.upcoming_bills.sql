CREATE OR REPLACE VIEW api.upcoming_bills WITH (security_invoker = TRUE) AS
SELECT
    b.user_id,
    b.id,
    b.biller_name,
    b.due_date,
    b.amount_due,
    b.currency,
    b.auto_pay,
    b.recurrence,
    b.due_date - current_date AS days_until_due
FROM bank.bills AS b
WHERE b.status = 'upcoming' AND b.due_date >= current_date;
COMMENT ON VIEW api.upcoming_bills IS 'Bills still to pay and not yet past due (those are in api.overdue_bills), '
'soonest first: ORDER BY due_date.';
