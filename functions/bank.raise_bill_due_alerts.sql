-- For a scheduler: a bill_due alert for every upcoming bill due within p_within_days, once per bill
-- and due date, and the bill's last_reminder_sent set. Returns the number of alerts raised.
CREATE OR REPLACE FUNCTION bank.raise_bill_due_alerts(
    p_within_days integer DEFAULT 3, p_today date DEFAULT current_date
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
STRICT
AS $$
DECLARE
    v_count integer;
BEGIN
    WITH raised AS (
        INSERT INTO bank.alerts (user_id, type, subject_id, period, message)
        SELECT
            b.user_id, 'bill_due', b.id, b.due_date,
            format('%s bill of %s %s is due on %s', b.biller_name, b.amount_due, b.currency, b.due_date)
        FROM bank.bills AS b
        WHERE b.status = 'upcoming' AND b.due_date BETWEEN p_today AND p_today + p_within_days
        ORDER BY b.user_id, b.id
        ON CONFLICT (user_id, type, subject_id, period) DO NOTHING
        RETURNING user_id, subject_id
    )
    UPDATE bank.bills AS b
    SET last_reminder_sent = now()
    FROM raised AS r
    WHERE b.user_id = r.user_id AND b.id = r.subject_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.raise_bill_due_alerts(integer, date) IS
'Raises one bill_due alert per upcoming bill due between p_today and p_today + p_within_days; returns how many.';
