-- Net worth over time: per day (p_step 'day') or per month's last day (p_step 'month', and p_to
-- when it ends the range mid-month) of p_from..p_to, at most 3,660 days: assets, liabilities and
-- net worth in the user's base currency, each account's end-of-day balance (bank.balances_by_day,
-- from the kept daily flows) converted at that day's rate. Active accounts, as api.net_worth;
-- liability accounts (credit cards, loans) carry what is owed as a negative balance. An account
-- with no rate that day is left out and counted in accounts_without_rate, never converted at 1.
-- The rates are looked up after the balances are read (see api.balance_history: Citus), once per
-- currency and day, not per account. The balances pass from the one query to the other as arrays:
-- a jsonb of the records cost 30-40 ms for a year of five accounts (1,825 rows), ten times the
-- balances themselves (scripts/bench.py, the heavy user's net worth).
CREATE OR REPLACE FUNCTION api.net_worth_history(p_from date, p_to date, p_step text DEFAULT 'day')
RETURNS TABLE (
    day date,
    currency text,
    assets numeric,
    liabilities numeric,
    net_worth numeric,
    accounts_without_rate bigint
)
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_base_currency text;
    v_minor_unit integer;
    v_day date[];
    v_account_type text[];
    v_currency text[];
    v_balance numeric[];
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from > p_to OR p_to - p_from >= 3660 THEN
        RAISE EXCEPTION 'history range % to % is not a range of 1 to 3660 days', p_from, p_to
            USING ERRCODE = 'BKHI1', HINT = 'Pass p_from <= p_to, at most 3659 days apart.';
    END IF;
    IF p_step IS NULL OR p_step NOT IN ('day', 'month') THEN
        RAISE EXCEPTION 'history step % is neither day nor month', coalesce(quote_literal(p_step), 'NULL')
            USING ERRCODE = 'BKHI1';
    END IF;
    SELECT u.base_currency, c.minor_unit INTO v_base_currency, v_minor_unit
    FROM bank.users AS u
    INNER JOIN bank.currencies AS c ON u.base_currency = c.code
    WHERE u.id = v_user_id;
    SELECT array_agg(b.day), array_agg(b.account_type::text), array_agg(b.currency), array_agg(b.balance)
    INTO v_day, v_account_type, v_currency, v_balance
    FROM bank.balances_by_day(v_user_id, p_from, p_to) AS b
    WHERE p_step = 'day' OR b.day = p_to OR b.day = (date_trunc('month', b.day) + interval '1 month - 1 day')::date;
    RETURN QUERY
    WITH balances AS (
        SELECT b.day, b.account_type, b.currency, b.balance
        FROM unnest(v_day, v_account_type, v_currency, v_balance) AS b (day, account_type, currency, balance)
    ),
    rates AS MATERIALIZED (
        SELECT r.currency, r.day, bank.find_exchange_rate(r.currency, v_base_currency, r.day) AS rate
        FROM (SELECT DISTINCT b.currency, b.day FROM balances AS b WHERE b.currency <> v_base_currency) AS r
    ),
    converted AS (
        SELECT
            b.day,
            b.account_type,
            CASE
                WHEN b.currency = v_base_currency THEN b.balance
                ELSE round(b.balance * r.rate, v_minor_unit)
            END AS balance
        FROM balances AS b
        LEFT JOIN rates AS r ON b.currency = r.currency AND b.day = r.day
    ),
    days AS (
        SELECT d.day::date AS day
        FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') AS d (day)
        WHERE p_step = 'day' OR d.day = p_to
            OR d.day = date_trunc('month', d.day) + interval '1 month - 1 day'
    )
    SELECT
        d.day,
        v_base_currency,
        coalesce(sum(c.balance) FILTER (WHERE c.account_type NOT IN ('credit_card', 'loan')), 0),
        coalesce(-sum(c.balance) FILTER (WHERE c.account_type IN ('credit_card', 'loan')), 0),
        coalesce(sum(c.balance), 0),
        count(*) FILTER (WHERE c.day IS NOT NULL AND c.balance IS NULL)
    FROM days AS d
    LEFT JOIN converted AS c ON d.day = c.day
    GROUP BY d.day
    ORDER BY d.day;
END;
$$;
COMMENT ON FUNCTION api.net_worth_history(date, date, text) IS
'The acting user''s assets, liabilities and net worth in the base currency per day (p_step ''day'') or month''s last '
'day (''month'', and p_to) of p_from..p_to, at each day''s rates; accounts_without_rate counts the accounts left '
'out for want of a rate. BKHI1 for a bad range or step.';
