-- A bill's status only moves forward (upcoming -> paid or overdue, overdue -> paid); paying it
-- records when (an application cannot set paid_at); a recurring bill's series starts at its first due date.
CREATE OR REPLACE FUNCTION bank.tg_bills__check_status()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status
        AND NOT (OLD.status = 'upcoming' OR (OLD.status = 'overdue' AND NEW.status = 'paid')) THEN
        RAISE EXCEPTION 'bill (id=%, biller=%) cannot go from % to %', OLD.id, OLD.biller_name, OLD.status, NEW.status
            USING
                ERRCODE = 'BKBL1',
                HINT = 'A bill goes from upcoming to paid or overdue, and from overdue to paid.';
    END IF;
    -- paid_at is derived, whatever the writer sends: when the bill became paid, else NULL.
    IF NEW.status <> 'paid' THEN
        NEW.paid_at := NULL;
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'paid' THEN
        NEW.paid_at := OLD.paid_at;
    ELSE
        NEW.paid_at := now();
    END IF;
    IF TG_OP = 'INSERT' AND NEW.recurrence IS NOT NULL THEN
        NEW.series_start := coalesce(NEW.series_start, NEW.due_date);
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_bills__check_status() IS
'BEFORE INSERT OR UPDATE row trigger of bank.bills: valid status changes only (BKBL1), paid_at, series_start.';

CREATE OR REPLACE TRIGGER _200_check_status BEFORE INSERT OR UPDATE ON bank.bills
FOR EACH ROW EXECUTE FUNCTION bank.tg_bills__check_status();
