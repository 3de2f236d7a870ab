-- Stores the money of accounts, bills and budgets at its currency's scale, and refuses an amount
-- with more decimals than the currency has (bank.at_currency_scale). Transactions do the same in
-- their prepare trigger, which already looks up what it needs.
CREATE OR REPLACE FUNCTION bank.tg__money_at_scale()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_currency text;
    v_minor_unit smallint;
BEGIN
    -- A branch reads only its own table's fields; PL/pgSQL resolves NEW.x when the line runs.
    IF TG_TABLE_NAME = 'accounts' THEN
        SELECT c.minor_unit INTO v_minor_unit FROM bank.currencies AS c WHERE c.code = NEW.currency;
        NEW.balance := bank.at_currency_scale(NEW.balance, v_minor_unit, NEW.currency, 'accounts', 'balance');
        NEW.low_balance_threshold := bank.at_currency_scale(
            NEW.low_balance_threshold, v_minor_unit, NEW.currency, 'accounts', 'low_balance_threshold'
        );
    ELSIF TG_TABLE_NAME = 'bills' THEN
        -- The seed's bills have no currency: an insert that names none is in the user's base currency.
        IF NEW.currency IS NULL THEN
            SELECT u.base_currency INTO NEW.currency FROM bank.users AS u WHERE u.id = NEW.user_id;
        END IF;
        SELECT c.minor_unit INTO v_minor_unit FROM bank.currencies AS c WHERE c.code = NEW.currency;
        NEW.amount_due := bank.at_currency_scale(NEW.amount_due, v_minor_unit, NEW.currency, 'bills', 'amount_due');
    ELSIF TG_TABLE_NAME = 'budgets' THEN
        -- Budgets are in the user's base currency.
        SELECT c.code, c.minor_unit INTO v_currency, v_minor_unit
        FROM bank.users AS u
        INNER JOIN bank.currencies AS c ON c.code = u.base_currency
        WHERE u.id = NEW.user_id;
        NEW.limit_amount := bank.at_currency_scale(NEW.limit_amount, v_minor_unit, v_currency, 'budgets', 'limit_amount');
    ELSE
        RAISE EXCEPTION 'bank.tg__money_at_scale() has no money column for %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Add a branch for the table to functions/bank.tg__money_at_scale.sql.';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg__money_at_scale() IS
'BEFORE INSERT OR UPDATE row trigger of accounts, bills and budgets: money at its currency''s scale, '
'<table>_<column>_scale_check when it has more decimals; a bill''s currency defaults to the user''s base currency.';

-- Only when a money column or its currency changes: the totals trigger updates budgets'
-- spent_amount on every transaction and must not pay for this.
CREATE OR REPLACE TRIGGER _300_money_at_scale BEFORE INSERT OR UPDATE OF balance, low_balance_threshold, currency
ON bank.accounts
FOR EACH ROW EXECUTE FUNCTION bank.tg__money_at_scale();
CREATE OR REPLACE TRIGGER _300_money_at_scale BEFORE INSERT OR UPDATE OF amount_due, currency ON bank.bills
FOR EACH ROW EXECUTE FUNCTION bank.tg__money_at_scale();
CREATE OR REPLACE TRIGGER _300_money_at_scale BEFORE INSERT OR UPDATE OF limit_amount, user_id ON bank.budgets
FOR EACH ROW EXECUTE FUNCTION bank.tg__money_at_scale();
