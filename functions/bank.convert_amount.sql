-- An amount converted at the rate of its date, rounded to the target currency's minor unit
-- (half away from zero, as numeric round() does).
CREATE OR REPLACE FUNCTION bank.convert_amount(p_amount numeric, p_from text, p_to text, p_on date)
RETURNS numeric
LANGUAGE sql
STABLE
STRICT
AS $$
    SELECT round(p_amount * bank.exchange_rate(p_from, p_to, p_on), c.minor_unit)
    FROM bank.currencies AS c
    WHERE c.code = p_to
$$;
COMMENT ON FUNCTION bank.convert_amount(numeric, text, text, date) IS
'p_amount in p_from converted to p_to at the rate of p_on, rounded to p_to''s minor unit.';
