-- For a scheduler: unpaid bills past their due date become overdue. Returns how many did.
CREATE OR REPLACE FUNCTION bank.mark_overdue_bills(p_today date DEFAULT current_date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
STRICT
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE bank.bills SET status = 'overdue'
    WHERE status = 'upcoming' AND due_date < p_today;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.mark_overdue_bills(date) IS
'Turns upcoming bills due before p_today overdue; returns how many.';
