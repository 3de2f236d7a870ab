-- Paying a recurring bill adds its next occurrence, due series_start + n periods: computed from the
-- series' first date, so a bill due on the 31st comes back on the 31st after a short month.
CREATE OR REPLACE FUNCTION bank.tg_bills__next_occurrence()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    INSERT INTO bank.bills (
        user_id, biller_name, due_date, amount_due, currency, auto_pay, recurrence, series_start, occurrence
    )
    VALUES (
        NEW.user_id, NEW.biller_name,
        (NEW.series_start + (NEW.occurrence + 1) * CASE NEW.recurrence
            WHEN 'weekly' THEN interval '1 week'
            WHEN 'monthly' THEN interval '1 month'
            ELSE interval '1 year'
        END)::date,
        NEW.amount_due, NEW.currency, NEW.auto_pay, NEW.recurrence, NEW.series_start, NEW.occurrence + 1
    );
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_bills__next_occurrence() IS
'AFTER UPDATE OF status row trigger of bank.bills: a recurring bill that becomes paid gets its next occurrence.';

CREATE OR REPLACE TRIGGER _500_next_occurrence AFTER UPDATE OF status ON bank.bills
FOR EACH ROW WHEN (new.status = 'paid' AND old.status <> 'paid' AND new.recurrence IS NOT NULL)
EXECUTE FUNCTION bank.tg_bills__next_occurrence();
