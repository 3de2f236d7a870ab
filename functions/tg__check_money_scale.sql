-- Rejects an amount with more decimals than its currency allows (USD 1.005, JPY 1.5): money is
-- exact, so such a value is an error, never rounded. A CHECK constraint cannot look up the
-- currency's minor unit, so a statement-level trigger checks every new row in one query.
CREATE OR REPLACE FUNCTION bank.tg__check_money_scale()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_amount numeric;
    v_currency text;
    v_minor_unit smallint;
BEGIN
    -- TG_ARGV: the amount column, the currency column. new_rows is the statement's transition table.
    EXECUTE format(
        'SELECT n.%1$I, n.%2$I, c.minor_unit
         FROM new_rows AS n
         JOIN bank.currencies AS c ON c.code = n.%2$I
         WHERE scale(trim_scale(n.%1$I)) > c.minor_unit
         LIMIT 1',
        TG_ARGV[0], TG_ARGV[1]
    ) INTO v_amount, v_currency, v_minor_unit;
    -- EXECUTE does not set FOUND: test what it fetched (currency is NOT NULL in every such table).
    IF v_currency IS NOT NULL THEN
        RAISE EXCEPTION '%.% % has more decimals than % allows (%)',
            TG_TABLE_NAME, TG_ARGV[0], v_amount, v_currency, v_minor_unit
            USING
                ERRCODE = 'check_violation',
                SCHEMA = TG_TABLE_SCHEMA,
                TABLE = TG_TABLE_NAME,
                COLUMN = TG_ARGV[0],
                CONSTRAINT = format('%s_%s_scale_check', TG_TABLE_NAME, TG_ARGV[0]),
                HINT = format('Amounts in %s have at most %s decimal(s); they are not rounded.', v_currency, v_minor_unit);
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg__check_money_scale() IS
'AFTER INSERT and AFTER UPDATE statement trigger (amount column, currency column): '
'raises <table>_<column>_scale_check when an amount has more decimals than its currency''s minor unit.';

-- Transition tables allow one event per trigger: an INSERT and an UPDATE trigger for each table.
CREATE OR REPLACE TRIGGER _900_check_money_scale_insert AFTER INSERT ON bank.accounts
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('balance', 'currency');
CREATE OR REPLACE TRIGGER _900_check_money_scale_update AFTER UPDATE ON bank.accounts
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('balance', 'currency');
CREATE OR REPLACE TRIGGER _900_check_money_scale_insert AFTER INSERT ON bank.transactions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('amount', 'currency');
CREATE OR REPLACE TRIGGER _900_check_money_scale_update AFTER UPDATE ON bank.transactions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('amount', 'currency');
CREATE OR REPLACE TRIGGER _900_check_money_scale_insert AFTER INSERT ON bank.bills
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('amount_due', 'currency');
CREATE OR REPLACE TRIGGER _900_check_money_scale_update AFTER UPDATE ON bank.bills
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__check_money_scale('amount_due', 'currency');
