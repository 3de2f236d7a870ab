-- The rate of one currency pair on a date, from the rates table alone: the latest direct rate on or
-- before the date, else the inverse of the latest rate of the opposite pair. NULL when neither exists.
CREATE OR REPLACE FUNCTION bank.pair_rate(p_from text, p_to text, p_on date)
RETURNS numeric
LANGUAGE sql
STABLE
STRICT
AS $$
    SELECT coalesce(
        (
            SELECT r.rate
            FROM bank.exchange_rates AS r
            WHERE r.base_currency = p_from AND r.quote_currency = p_to AND r.rate_date <= p_on
            ORDER BY r.rate_date DESC
            LIMIT 1
        ),
        (
            -- 16 decimals: exact to a cent on amounts up to 10^13 after rounding.
            SELECT round(1 / r.rate, 16)
            FROM bank.exchange_rates AS r
            WHERE r.base_currency = p_to AND r.quote_currency = p_from AND r.rate_date <= p_on
            ORDER BY r.rate_date DESC
            LIMIT 1
        )
    )
$$;
COMMENT ON FUNCTION bank.pair_rate(text, text, date) IS
'1 p_from = result p_to on p_on: the latest direct rate on or before the date, else the inverse pair''s; NULL if none.';
