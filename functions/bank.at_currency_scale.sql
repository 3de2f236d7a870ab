-- An amount as it is stored: at its currency's scale. 1.5 and 1.50000 USD are both 1.50; an amount
-- with more decimals than the currency allows (USD 1.005, JPY 1.5) is an error, never rounded.
-- A CHECK constraint cannot look up the currency's minor unit, so the BEFORE triggers that know it
-- (transactions' prepare, tg__money_at_scale) call this with it.
CREATE OR REPLACE FUNCTION bank.at_currency_scale(
    p_amount numeric, p_minor_unit smallint, p_currency text, p_table text, p_column text
)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
    v_rounded numeric := round(p_amount, p_minor_unit);
BEGIN
    -- An unknown currency (no minor unit) is left to its foreign key, which names itself; NaN and
    -- the infinities are equal to their rounding and left to the <column>_finite_check constraints.
    IF p_amount IS NULL OR p_minor_unit IS NULL THEN
        RETURN p_amount;
    ELSIF v_rounded = p_amount THEN
        RETURN v_rounded;
    END IF;
    RAISE EXCEPTION '%.% % has more decimals than % allows (%)', p_table, p_column, p_amount, p_currency, p_minor_unit
        USING
            ERRCODE = 'check_violation',
            SCHEMA = 'bank',
            TABLE = p_table,
            COLUMN = p_column,
            CONSTRAINT = format('%s_%s_scale_check', p_table, p_column),
            HINT = format('Amounts in %s have at most %s decimal(s); they are not rounded.', p_currency, p_minor_unit);
END;
$$;
COMMENT ON FUNCTION bank.at_currency_scale(numeric, smallint, text, text, text) IS
'p_amount at its currency''s scale (1.5 USD -> 1.50), or error <table>_<column>_scale_check (23514) when it has '
'more decimals than p_minor_unit.';
