-- The rate that converts p_from into p_to on a date, or NULL when none can be found: 1 for the
-- same currency, the pair's own rate (direct or inverse), or both legs through one pivot currency.
-- SECURITY DEFINER: the api views call it for roles without USAGE on schema bank (bank_readonly);
-- it reads only exchange rates, which every role may read.
CREATE OR REPLACE FUNCTION bank.find_exchange_rate(p_from text, p_to text, p_on date, p_pivot text DEFAULT 'USD')
RETURNS numeric
LANGUAGE sql
STABLE
STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_from = p_to THEN 1 ELSE coalesce(
        bank.pair_rate(p_from, p_to, p_on),
        round(bank.pair_rate(p_from, p_pivot, p_on) * bank.pair_rate(p_pivot, p_to, p_on), 16)
    ) END
$$;
COMMENT ON FUNCTION bank.find_exchange_rate(text, text, date, text) IS
'1 p_from = result p_to on p_on (same currency 1, the pair direct or inverse, else through p_pivot); NULL if none. '
'Views use it; bank.exchange_rate raises instead.';
