-- The end-of-day balance of a user's accounts on every day of a range, from the kept rows only
-- (bank.daily_flows), never from the raw transactions: a year of days costs one index range scan
-- of the flows per account, whatever the number of transactions.
-- The balance at the end of day d is the account's balance now (accounts.balance, in its
-- currency) minus the net flows (credits - debits) in that currency of the days after d: exact
-- when the balance is the bank's after every recorded transaction. Flows in another currency
-- (or from before a change of the account's currency) do not enter it; they are counted.
-- PL/pgSQL: on Citus a SQL function with parameters cannot query distributed tables; this one
-- runs as one query routed to the user's worker (every table filtered by the user).
CREATE OR REPLACE FUNCTION bank.balances_by_day(
    p_user_id bigint, p_from date, p_to date, p_account_id bigint DEFAULT NULL
)
RETURNS TABLE (
    account_id bigint,
    account_type bank.account_type,
    currency text,
    day date,
    credits numeric,
    debits numeric,
    txn_count bigint,
    other_currency_count bigint,
    balance numeric
)
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH accounts AS (
        SELECT a.id, a.account_type, a.currency, a.balance
        FROM bank.accounts AS a
        WHERE a.user_id = p_user_id
            AND (p_account_id IS NULL AND a.disabled_at IS NULL OR a.id = p_account_id)
    ),
    flows AS (
        SELECT
            f.account_id,
            f.day,
            sum(f.credits) FILTER (WHERE f.currency = a.currency) AS credits,
            sum(f.debits) FILTER (WHERE f.currency = a.currency) AS debits,
            sum(f.txn_count) FILTER (WHERE f.currency = a.currency) AS txn_count,
            sum(f.txn_count) FILTER (WHERE f.currency <> a.currency) AS other_currency_count
        FROM bank.daily_flows AS f
        INNER JOIN accounts AS a ON f.account_id = a.id
        WHERE f.user_id = p_user_id AND f.day BETWEEN p_from AND p_to
        GROUP BY f.account_id, f.day
    ),
    later AS (
        SELECT f.account_id, sum(f.credits - f.debits) AS net
        FROM bank.daily_flows AS f
        INNER JOIN accounts AS a ON f.account_id = a.id AND f.currency = a.currency
        WHERE f.user_id = p_user_id AND f.day > p_to
        GROUP BY f.account_id
    ),
    grid AS (
        SELECT
            a.id AS account_id,
            a.account_type,
            a.currency,
            a.balance - coalesce(l.net, 0) AS end_balance,
            d.day::date AS day
        FROM accounts AS a
        CROSS JOIN generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') AS d (day)
        LEFT JOIN later AS l ON a.id = l.account_id
    )
    SELECT
        g.account_id,
        g.account_type,
        g.currency,
        g.day,
        coalesce(f.credits, 0),
        coalesce(f.debits, 0),
        coalesce(f.txn_count, 0)::bigint,
        coalesce(f.other_currency_count, 0)::bigint,
        g.end_balance - coalesce(
            sum(coalesce(f.credits, 0) - coalesce(f.debits, 0)) OVER (
                PARTITION BY g.account_id ORDER BY g.day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ),
            0
        )
    FROM grid AS g
    LEFT JOIN flows AS f ON (g.account_id, g.day) = (f.account_id, f.day)
    ORDER BY g.account_id, g.day;
END;
$$;
COMMENT ON FUNCTION bank.balances_by_day(bigint, date, date, bigint) IS
'Per account (one, or every active one of the user) and day of p_from..p_to: the day''s flows in the account''s '
'currency and the end-of-day balance, accounts.balance minus the net flows of the later days.';
