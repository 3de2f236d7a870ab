-- The recurring payments bank.find_recurring_candidates found for a user, with what accepting
-- (api.accept_recurring_candidate) or dismissing (api.dismiss_recurring_candidate) decided.
CREATE OR REPLACE VIEW api.recurring_candidates WITH (security_invoker = TRUE) AS
SELECT
    r.user_id,
    r.id,
    r.merchant,
    r.typical_amount,
    r.currency,
    r.recurrence,
    r.occurrences,
    r.first_date,
    r.last_date,
    r.next_expected_date,
    r.status,
    r.bill_id,
    r.detected_at,
    r.decided_at
FROM bank.recurring_candidates AS r;
COMMENT ON VIEW api.recurring_candidates IS
'Recurring payments found in the user''s history: merchant, typical amount, recurrence (weekly, monthly, yearly), '
'last and next expected date, status (proposed, accepted, dismissed). WHERE status = ''proposed'' ORDER BY '
'next_expected_date.';
