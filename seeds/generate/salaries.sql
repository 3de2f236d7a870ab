-- One batch of generated users' salaries: one on the first of each month of the window, paid
-- into each checking account in the user's base currency, so the base amount is the amount.
-- Drawn in USD, converted at the currency's mid rate.
-- Parameters: the settings generate.seed, generate.first_day, generate.last_day,
-- generate.usd_rates and generate.user_ids (the batch).
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.first_day')::date AS first_day,
        current_setting('generate.last_day')::date AS last_day,
        current_setting('generate.usd_rates')::jsonb AS usd_rates,
        current_setting('generate.user_ids')::bigint[] AS user_ids
),

-- Each checking account in the user's base currency, and its monthly pay.
salary AS (
    SELECT
        a.user_id,
        a.id AS account_id,
        a.currency,
        round(
            (2500 + abs(hashtextextended('salary' || split_part(u.email, '@', 1), p.seed)) % 6000)
            / (p.usd_rates ->> a.currency)::numeric,
            c.minor_unit
        ) AS amount
    FROM p
    CROSS JOIN unnest(p.user_ids) AS batch (user_id)
    INNER JOIN bank.users AS u ON batch.user_id = u.id
    INNER JOIN bank.accounts AS a ON u.id = a.user_id AND a.account_type = 'checking' AND u.base_currency = a.currency
    INNER JOIN bank.currencies AS c ON a.currency = c.code
)

INSERT INTO bank.transactions (
    user_id, account_id, description, category, amount, currency, txn_type, merchant, txn_date, is_categorized,
    fx_rate, base_amount
)
SELECT
    s.user_id,
    s.account_id,
    'Monthly salary',
    'Salary',
    s.amount,
    s.currency,
    'credit',
    'Employer Ltd',
    m::date,
    TRUE,
    1,
    s.amount AS base_amount
FROM p
CROSS JOIN salary AS s
CROSS JOIN generate_series(p.first_day, p.last_day, interval '1 month') AS m;
