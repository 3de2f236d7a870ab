-- The rate that converts p_from into p_to on a date: 1 for the same currency, the pair's own
-- rate (direct or inverse), or a triangulation through one pivot currency. Never a silent 1.
CREATE OR REPLACE FUNCTION bank.exchange_rate(p_from text, p_to text, p_on date, p_pivot text DEFAULT 'USD')
RETURNS numeric
LANGUAGE plpgsql
STABLE
STRICT
AS $$
DECLARE
    v_rate numeric;
BEGIN
    v_rate := bank.find_exchange_rate(p_from, p_to, p_on, p_pivot);
    IF v_rate IS NULL THEN
        RAISE EXCEPTION 'no exchange rate from % to % on or before % (direct, inverse, or through %)',
            p_from, p_to, p_on, p_pivot
            USING
                ERRCODE = 'BKFX1',
                HINT = 'Load a rate for the pair, its inverse, or both legs through the pivot into bank.exchange_rates.';
    END IF;
    RETURN v_rate;
END;
$$;
COMMENT ON FUNCTION bank.exchange_rate(text, text, date, text) IS
'1 p_from = result p_to on p_on: same currency 1, else the pair (direct or inverse), else through p_pivot; '
'raises BKFX1 when no rate exists.';
