-- Net worth over time: per day (p_step 'day') or per month's last day (p_step 'month', and p_to
-- when it ends the range mid-month) of p_from..p_to, at most 3,660 days: assets, liabilities and
-- net worth in the user's base currency, each account's end-of-day balance (bank.balances_by_day,
-- from the kept daily flows) converted at that day's rate. Active accounts, as api.net_worth;
-- liability accounts (credit cards, loans) carry what is owed as a negative balance. An account
-- with no rate that day is left out and counted in accounts_without_rate, never converted at 1.
-- The rates are looked up after the balances are read (see api.balance_history: Citus). The
-- balances pass from the one query to the other as arrays: a jsonb of the records cost 30-40 ms for
-- a year of five accounts (1,825 rows), ten times the balances themselves (scripts/bench.py, the
-- heavy user's net worth). The rates are read once for the range, set-based, not looked up per
-- account and day: for each foreign currency, the pairs bank.find_exchange_rate tries (the direct
-- pair, its inverse, both legs through its pivot USD, each either way), each pair's rows of the
-- range and its last row before it; each day takes each pair's latest row on or before it, and
-- combines them as bank.find_exchange_rate does (same rounding), so the rates are the same.
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
    foreign_currencies AS MATERIALIZED (
        SELECT DISTINCT b.currency FROM balances AS b WHERE b.currency <> v_base_currency
    ),
    pairs AS MATERIALIZED (
        SELECT DISTINCT p.base_currency, p.quote_currency
        FROM foreign_currencies AS f
        CROSS JOIN LATERAL (
            VALUES
            (f.currency, v_base_currency), (v_base_currency, f.currency), (f.currency, 'USD'),
            ('USD', f.currency), ('USD', v_base_currency), (v_base_currency, 'USD')
        ) AS p (base_currency, quote_currency)
    ),
    all_days AS (
        SELECT d.day::date AS day
        FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') AS d (day)
    ),
    -- Each pair's rows: the last on or before p_from (as of p_from), then those up to p_to.
    pair_rows AS (
        SELECT p.base_currency, p.quote_currency, r.day, r.rate
        FROM pairs AS p
        CROSS JOIN LATERAL (
            (
                SELECT p_from AS day, x.rate
                FROM bank.exchange_rates AS x
                WHERE x.base_currency = p.base_currency AND x.quote_currency = p.quote_currency AND x.rate_date <= p_from
                ORDER BY x.rate_date DESC
                LIMIT 1
            )
            UNION ALL
            SELECT x.rate_date AS day, x.rate
            FROM bank.exchange_rates AS x
            WHERE
                x.base_currency = p.base_currency AND x.quote_currency = p.quote_currency
                AND x.rate_date > p_from AND x.rate_date <= p_to
        ) AS r
    ),
    -- Per pair and day, the number of rows up to the day: the days after a row share its number.
    numbered AS (
        SELECT
            p.base_currency,
            p.quote_currency,
            d.day,
            r.rate,
            count(r.rate) OVER (PARTITION BY p.base_currency, p.quote_currency ORDER BY d.day) AS n
        FROM pairs AS p
        CROSS JOIN all_days AS d
        LEFT JOIN pair_rows AS r
            ON p.base_currency = r.base_currency AND p.quote_currency = r.quote_currency AND d.day = r.day
    ),
    -- Each pair's latest rate on or before each day (NULL before its first row).
    latest AS MATERIALIZED (
        SELECT
            n.base_currency,
            n.quote_currency,
            n.day,
            max(n.rate) OVER (PARTITION BY n.base_currency, n.quote_currency, n.n) AS rate
        FROM numbered AS n
    ),
    -- Each foreign currency's six pairs on each day, side by side.
    legs AS (
        SELECT
            f.currency,
            l.day,
            max(l.rate) FILTER (WHERE l.base_currency = f.currency AND l.quote_currency = v_base_currency) AS own,
            max(l.rate) FILTER (WHERE l.base_currency = v_base_currency AND l.quote_currency = f.currency) AS own_inverse,
            max(l.rate) FILTER (WHERE l.base_currency = f.currency AND l.quote_currency = 'USD') AS to_usd,
            max(l.rate) FILTER (WHERE l.base_currency = 'USD' AND l.quote_currency = f.currency) AS to_usd_inverse,
            max(l.rate) FILTER (WHERE l.base_currency = 'USD' AND l.quote_currency = v_base_currency) AS from_usd,
            max(l.rate) FILTER (WHERE l.base_currency = v_base_currency AND l.quote_currency = 'USD') AS from_usd_inverse
        FROM foreign_currencies AS f
        CROSS JOIN latest AS l
        GROUP BY f.currency, l.day
    ),
    -- bank.find_exchange_rate from bank.pair_rate's: the pair (direct, else the inverse's inverse to 16
    -- decimals), else both legs through USD (their product to 16 decimals).
    rates AS (
        SELECT
            g.currency,
            g.day,
            coalesce(
                g.own,
                round(1 / g.own_inverse, 16),
                round(
                    coalesce(g.to_usd, round(1 / g.to_usd_inverse, 16))
                    * coalesce(g.from_usd, round(1 / g.from_usd_inverse, 16)),
                    16
                )
            ) AS rate
        FROM legs AS g
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
