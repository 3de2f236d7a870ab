-- A budget's alert when the budget itself changes: created already at or over a line, or a lower
-- limit, a lower warning_percent or less carried in (an earlier month's overspend carried both
-- ways) crossing one (bank.budget_alert_type). Spending that crosses a line is bankdb's own
-- UPDATE of spent_amount (bank.set_budgets_spent), which raises its alert itself: this trigger
-- does not fire on spent_amount, so a transaction in a budgeted category fires no trigger of
-- bank.budgets.
-- SECURITY DEFINER: alerts are raised by bankdb, not inserted by applications.
CREATE OR REPLACE FUNCTION bank.tg_budgets__alerts()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_type := bank.budget_alert_type(
            NEW.spent_amount, NEW.limit_amount + NEW.carried_in, NEW.warning_percent, NULL, NULL, NULL
        );
    ELSE
        v_type := bank.budget_alert_type(
            NEW.spent_amount, NEW.limit_amount + NEW.carried_in, NEW.warning_percent,
            OLD.spent_amount, OLD.limit_amount + OLD.carried_in, OLD.warning_percent
        );
    END IF;
    IF v_type IS NOT NULL THEN
        PERFORM bank.raise_budget_alert(
            v_type, NEW.id, NEW.user_id, NEW.year, NEW.month, NEW.category,
            NEW.spent_amount, NEW.limit_amount, NEW.carried_in
        );
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__alerts() IS
'AFTER INSERT OR UPDATE OF limit_amount, warning_percent, carried_in row trigger of bank.budgets: raises '
'budget_warning and budget_exceeded alerts when the budget crosses warning_percent of, or goes over, '
'limit_amount + carried_in (bank.budget_alert_type); spending''s crossings are bank.set_budgets_spent''s.';

-- The function is called only where a crossing may be: at or over the warning line (which is at
-- or under what is available, warning_percent <= 100), and, on an UPDATE, not over what was
-- available before. The function decides the rest. (One trigger for INSERT and UPDATE could not
-- name OLD in its condition.)
DROP TRIGGER IF EXISTS _500_alerts ON bank.budgets;
CREATE OR REPLACE TRIGGER _500_alerts_insert AFTER INSERT ON bank.budgets
FOR EACH ROW WHEN (new.spent_amount * 100 >= (new.limit_amount + new.carried_in) * new.warning_percent)
EXECUTE FUNCTION bank.tg_budgets__alerts();
CREATE OR REPLACE TRIGGER _500_alerts_update AFTER UPDATE OF limit_amount, warning_percent, carried_in
ON bank.budgets
FOR EACH ROW WHEN (
    new.spent_amount * 100 >= (new.limit_amount + new.carried_in) * new.warning_percent
    AND old.spent_amount <= old.limit_amount + old.carried_in
)
EXECUTE FUNCTION bank.tg_budgets__alerts();
