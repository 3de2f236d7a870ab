-- Keeps updated_at (or the column named by the trigger's argument) at the time of the last change.
CREATE OR REPLACE FUNCTION bank.tg__set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF TG_NARGS = 0 THEN
        NEW.updated_at := now();
    ELSE
        -- PL/pgSQL cannot assign a field named at run time; this form can (rewards.last_updated).
        NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], now()));
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg__set_updated_at() IS
'BEFORE UPDATE row trigger: sets updated_at, or the column named by its argument, to now().';

-- Every table with updated_at (tests/migrations/test_schema.py checks none is missed). The WHEN
-- clause leaves a row whose UPDATE changed nothing as it was.
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.users
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.accounts
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.transactions
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
-- Budgets: every transaction in a budgeted category changes spent_amount, and the totals trigger
-- that writes it sets updated_at itself, so its UPDATE calls no trigger function (only bankdb's
-- own code can write either column).
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.budgets
FOR EACH ROW WHEN (old IS DISTINCT FROM new AND old.updated_at IS NOT DISTINCT FROM new.updated_at)
EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.category_rules
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.bills
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.alerts
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at();
CREATE OR REPLACE TRIGGER _100_set_updated_at BEFORE UPDATE ON bank.rewards
FOR EACH ROW WHEN (old IS DISTINCT FROM new) EXECUTE FUNCTION bank.tg__set_updated_at('last_updated');
