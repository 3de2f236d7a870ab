-- Undo V016. The triggers and functions that name the two columns go first; the budgets' alerts
-- trigger and its function are put back as they were before V016, so that writes to transactions
-- (which update budgets) keep raising alerts meanwhile. api.budget_status goes (it shows the
-- columns); bank.verify_totals and bank.rebuild_totals name them too and fail until the next
-- migrate applies them again (it forgets every repeatable script after a rollback).
DROP TRIGGER IF EXISTS _200_carry_in ON bank.budgets;
DROP TRIGGER IF EXISTS _500_carry_forward_insert ON bank.budgets;
DROP TRIGGER IF EXISTS _500_carry_forward_update ON bank.budgets;
DROP TRIGGER IF EXISTS _500_carry_forward_delete ON bank.budgets;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_budgets__carry_in();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_budgets__carry_forward();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.budget_carry_out(text, numeric, numeric, numeric);
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.budget_status;
DROP TRIGGER IF EXISTS _500_alerts ON bank.budgets;

CREATE OR REPLACE FUNCTION bank.tg_budgets__alerts()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type bank.alert_type;
    v_currency text;
    v_month date := make_date(NEW.year, NEW.month, 1);
BEGIN
    IF NEW.spent_amount > NEW.limit_amount
        AND (TG_OP = 'INSERT' OR OLD.spent_amount <= OLD.limit_amount) THEN
        v_type := 'budget_exceeded';
    ELSIF NEW.spent_amount * 100 >= NEW.limit_amount * NEW.warning_percent
        AND NEW.spent_amount <= NEW.limit_amount
        AND (TG_OP = 'INSERT' OR OLD.spent_amount * 100 < OLD.limit_amount * OLD.warning_percent) THEN
        v_type := 'budget_warning';
    ELSE
        RETURN NULL;
    END IF;
    SELECT u.base_currency INTO v_currency FROM bank.users AS u WHERE u.id = NEW.user_id;
    INSERT INTO bank.alerts (user_id, type, subject_id, period, message)
    VALUES (
        NEW.user_id, v_type, NEW.id, v_month,
        format(
            '%s budget for %s %s: spent %s %s of %s %s (%s%%)',
            NEW.category, to_char(v_month, 'YYYY-MM'),
            CASE v_type WHEN 'budget_exceeded' THEN 'exceeded' ELSE 'nearly used' END,
            NEW.spent_amount, v_currency, NEW.limit_amount, v_currency,
            round(NEW.spent_amount * 100 / NEW.limit_amount)
        )
    )
    ON CONFLICT (user_id, type, subject_id, period) DO NOTHING;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__alerts() IS
'AFTER INSERT OR UPDATE row trigger of bank.budgets: raises budget_warning and budget_exceeded alerts on crossing.';

CREATE OR REPLACE TRIGGER _500_alerts AFTER INSERT OR UPDATE OF spent_amount, limit_amount, warning_percent
ON bank.budgets
FOR EACH ROW WHEN (new.spent_amount * 100 >= new.limit_amount * new.warning_percent)
EXECUTE FUNCTION bank.tg_budgets__alerts();

-- squawk-ignore ban-drop-column
ALTER TABLE bank.budgets DROP COLUMN carried_in;
-- squawk-ignore ban-drop-column
ALTER TABLE bank.budgets DROP COLUMN rollover;
