-- budget_warning when spending first reaches warning_percent of what is available (limit_amount +
-- carried_in), budget_exceeded when it first goes over it: on the crossing, not on every
-- transaction after it, and at most once per budget and month. A crossing comes from spending, a
-- lower limit, or less carried in (an earlier month's overspend carried both ways): the available
-- amount may be 0 or less, and then any spending is over it.
-- SECURITY DEFINER: alerts are raised by bankdb, not inserted by applications.
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
    v_available numeric := NEW.limit_amount + NEW.carried_in;
    v_old_available numeric;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        v_old_available := OLD.limit_amount + OLD.carried_in;
    END IF;
    IF NEW.spent_amount > v_available
        AND (TG_OP = 'INSERT' OR OLD.spent_amount <= v_old_available) THEN
        v_type := 'budget_exceeded';
    ELSIF NEW.spent_amount * 100 >= v_available * NEW.warning_percent
        AND NEW.spent_amount <= v_available
        AND (TG_OP = 'INSERT' OR OLD.spent_amount * 100 < v_old_available * OLD.warning_percent) THEN
        v_type := 'budget_warning';
    ELSE
        RETURN NULL;
    END IF;
    SELECT u.base_currency INTO v_currency FROM bank.users AS u WHERE u.id = NEW.user_id;
    INSERT INTO bank.alerts (user_id, type, subject_id, period, message)
    VALUES (
        NEW.user_id, v_type, NEW.id, v_month,
        format(
            '%s budget for %s %s: spent %s %s of %s %s%s%s',
            NEW.category, to_char(v_month, 'YYYY-MM'),
            CASE WHEN v_type = 'budget_exceeded' THEN 'exceeded' ELSE 'nearly used' END,
            NEW.spent_amount, v_currency, v_available, v_currency,
            -- Nothing carried in: the limit is what is available, and the message says no more.
            CASE
                WHEN NEW.carried_in <> 0
                    THEN format(
                        ' available (limit %s %s, carried in %s %s)',
                        NEW.limit_amount, v_currency, NEW.carried_in, v_currency
                    )
                ELSE ''
            END,
            CASE WHEN v_available > 0 THEN format(' (%s%%)', round(NEW.spent_amount * 100 / v_available)) ELSE '' END
        )
    )
    ON CONFLICT (user_id, type, subject_id, period) DO NOTHING;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__alerts() IS
'AFTER INSERT OR UPDATE row trigger of bank.budgets: raises budget_warning and budget_exceeded alerts when spending '
'crosses warning_percent of, or goes over, limit_amount + carried_in.';

-- Every transaction in a budgeted category updates spent_amount. The function is called only
-- where a crossing may be: spending at or over the warning line (which is at or under what is
-- available, warning_percent <= 100), and, on an UPDATE, not over what was available before (a
-- budget already exceeded, and spent against further, cannot cross again: no call on each of its
-- transactions). The function decides the rest. A short condition: PostgreSQL reads a trigger's
-- condition again for every statement that updates budgets (each insert's), and the whole test
-- written out cost more than the calls it saved. (One trigger for INSERT and UPDATE could not
-- name OLD in its condition.)
DROP TRIGGER IF EXISTS _500_alerts ON bank.budgets;
CREATE OR REPLACE TRIGGER _500_alerts_insert AFTER INSERT ON bank.budgets
FOR EACH ROW WHEN (new.spent_amount * 100 >= (new.limit_amount + new.carried_in) * new.warning_percent)
EXECUTE FUNCTION bank.tg_budgets__alerts();
CREATE OR REPLACE TRIGGER _500_alerts_update AFTER UPDATE OF spent_amount, limit_amount, warning_percent, carried_in
ON bank.budgets
FOR EACH ROW WHEN (
    new.spent_amount * 100 >= (new.limit_amount + new.carried_in) * new.warning_percent
    AND old.spent_amount <= old.limit_amount + old.carried_in
)
EXECUTE FUNCTION bank.tg_budgets__alerts();
