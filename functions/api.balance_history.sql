-- One account's history, day by day over p_from..p_to (at most 3,660 days): the day's flows in
-- the account's currency, the end-of-day balance derived from them (bank.balances_by_day), the
-- balance the bank last reported on or before the day (bank.account_balances, in the currency of
-- then), and the balance in the user's base currency at that day's rate (NULL where no rate
-- exists: never converted at 1). The acting user's accounts only.
-- The rates are looked up after the balances are read, in a query of their own: on Citus the
-- balances come from the user's worker, and the rate lookup (a reference table) runs on the
-- coordinator, never nested in a query on a shard.
CREATE OR REPLACE FUNCTION api.balance_history(p_account_id bigint, p_from date, p_to date)
RETURNS TABLE (
    day date,
    currency text,
    credits numeric,
    debits numeric,
    txn_count bigint,
    other_currency_count bigint,
    balance numeric,
    reported_balance numeric,
    reported_currency text,
    base_currency text,
    balance_in_base_currency numeric
)
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_base_currency text;
    v_minor_unit integer;
    v_days jsonb;
    v_reported jsonb;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from > p_to OR p_to - p_from >= 3660 THEN
        RAISE EXCEPTION 'history range % to % is not a range of 1 to 3660 days', p_from, p_to
            USING ERRCODE = 'BKHI1', HINT = 'Pass p_from <= p_to, at most 3659 days apart.';
    END IF;
    IF NOT EXISTS (SELECT FROM bank.accounts AS a WHERE a.user_id = v_user_id AND a.id = p_account_id) THEN
        RAISE EXCEPTION 'account % is not the acting user''s', p_account_id
            USING ERRCODE = 'BKNF1';
    END IF;
    SELECT u.base_currency, c.minor_unit INTO v_base_currency, v_minor_unit
    FROM bank.users AS u
    INNER JOIN bank.currencies AS c ON u.base_currency = c.code
    WHERE u.id = v_user_id;
    SELECT jsonb_agg(b) INTO v_days FROM bank.balances_by_day(v_user_id, p_from, p_to, p_account_id) AS b;
    SELECT coalesce(jsonb_agg(r), '[]') INTO v_reported
    FROM (
        SELECT r.day, r.currency, r.balance
        FROM bank.account_balances AS r
        WHERE r.user_id = v_user_id AND r.account_id = p_account_id AND r.day <= p_to
    ) AS r;
    RETURN QUERY
    SELECT
        b.day,
        b.currency,
        b.credits,
        b.debits,
        b.txn_count,
        b.other_currency_count,
        b.balance,
        r.balance,
        r.currency,
        v_base_currency,
        CASE
            WHEN b.currency = v_base_currency THEN b.balance
            ELSE round(b.balance * bank.find_exchange_rate(b.currency, v_base_currency, b.day), v_minor_unit)
        END
    FROM jsonb_to_recordset(v_days) AS b (
        day date, currency text, credits numeric, debits numeric, txn_count bigint, other_currency_count bigint,
        balance numeric
    )
    LEFT JOIN LATERAL (
        SELECT x.balance, x.currency
        FROM jsonb_to_recordset(v_reported) AS x (day date, currency text, balance numeric)
        WHERE x.day <= b.day
        ORDER BY x.day DESC
        LIMIT 1
    ) AS r ON TRUE
    ORDER BY b.day;
END;
$$;
COMMENT ON FUNCTION api.balance_history(bigint, date, date) IS
'One account of the acting user, per day of p_from..p_to: flows and end-of-day balance (accounts.balance minus the '
'later days'' net flows) in its currency, the last reported balance, and the balance in the base currency at the '
'day''s rate (NULL without a rate). BKHI1 for a bad range, BKNF1 for an account not the user''s.';
