-- One batch of generated users' purchases, from their checking and credit card accounts, over
-- the days of the window: a typical user about 100 (30-129 per account type, shared between the
-- accounts), a heavy user (the first generate.heavy_users by number) generate.heavy_transactions.
-- Amounts are drawn in USD within the category's range, then converted into the account's
-- currency at its mid rate; the base amount is computed here, as the triggers would, since
-- bankdb/generate.py loads transactions with them off.
-- Parameters: the settings generate.seed, generate.heavy_users, generate.heavy_transactions,
-- generate.first_day, generate.last_day, generate.usd_rates and generate.user_ids (the batch).
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.heavy_users')::integer AS heavy_users,
        current_setting('generate.heavy_transactions')::integer AS heavy_transactions,
        current_setting('generate.last_day')::date AS last_day,
        current_setting('generate.last_day')::date - current_setting('generate.first_day')::date + 1 AS days,
        current_setting('generate.usd_rates')::jsonb AS usd_rates,
        current_setting('generate.user_ids')::bigint[] AS user_ids
),

-- What is bought: the category, its merchants and its smallest and largest amount in USD.
spending (k, category, merchants, low, high) AS (
    VALUES
    (0, 'Groceries', ARRAY['FreshMart', 'GreenGrocer', 'MegaMart', 'Corner Shop'], 8, 160),
    (1, 'Utilities', ARRAY['City Power', 'Water Utility', 'Gas & Heat', 'FiberNet'], 30, 220),
    (2, 'Entertainment', ARRAY['Starlight Cinema', 'GameHub', 'Bistro 21', 'Concert Hall'], 10, 120),
    (3, 'Transportation', ARRAY['Metro Transit', 'FuelUp', 'CityParking', 'RideShare'], 3, 90),
    (4, 'Healthcare', ARRAY['GoodHealth Pharmacy', 'Dental Care', 'City Clinic'], 12, 300),
    (5, 'Shopping', ARRAY['ShopOnline', 'StyleStore', 'HomeGoods', 'TechWorld'], 15, 400),
    (6, 'Subscriptions', ARRAY['StreamFlix', 'MusicBox', 'CloudDrive', 'NewsDaily'], 5, 25),
    (7, NULL, ARRAY['Unknown Merchant', 'Market Stall'], 2, 60)
),

-- The batch's accounts that buy, each knowing how many its user has (a window, not a subquery per
-- user: Citus cannot join a distributed table's correlated subquery to the reference table users).
buying AS (
    SELECT
        b.user_id,
        b.id,
        b.currency,
        b.account_type,
        count(*) OVER (PARTITION BY b.user_id) AS buying_accounts
    FROM bank.accounts AS b
    WHERE b.account_type IN ('checking', 'credit_card') AND b.user_id IN (SELECT unnest(p.user_ids) FROM p)
),

-- Each purchase's draw h, from the user, the account type and the purchase's number.
draw AS (
    SELECT
        a.user_id,
        a.id AS account_id,
        a.currency,
        u.base_currency,
        abs(hashtextextended(split_part(u.email, '@', 1) || ':' || a.account_type || ':' || n, p.seed)) AS h
    FROM p
    CROSS JOIN unnest(p.user_ids) AS batch (user_id)
    INNER JOIN bank.users AS u ON batch.user_id = u.id
    INNER JOIN buying AS a ON u.id = a.user_id
    CROSS JOIN generate_series(
        1,
        CASE
            WHEN split_part(substring(u.email FROM 5), '@', 1)::integer <= p.heavy_users THEN p.heavy_transactions
            ELSE 30 + abs(hashtextextended('n' || split_part(u.email, '@', 1) || a.account_type, p.seed)) % 100
        END
        / a.buying_accounts::integer
    ) AS n
),

purchase AS (
    SELECT
        d.user_id,
        d.account_id,
        s.category,
        s.merchants[1 + d.h % cardinality(s.merchants)] AS merchant,
        coalesce(s.category, 'Purchase') || ' at ' || s.merchants[1 + d.h % cardinality(s.merchants)]
            AS description,
        round(
            (s.low + (d.h / 7 % 10000) / 10000.0 * (s.high - s.low)) / (p.usd_rates ->> d.currency)::numeric,
            ac.minor_unit
        ) + 1 AS amount,
        d.currency,
        p.last_day - (d.h / 13 % p.days)::integer AS txn_date,
        CASE
            WHEN d.currency = d.base_currency THEN 1
            ELSE bank.find_exchange_rate(d.currency, d.base_currency, p.last_day - (d.h / 13 % p.days)::integer)
        END AS rate,
        bc.minor_unit AS base_minor
    FROM p
    CROSS JOIN draw AS d
    INNER JOIN spending AS s ON d.h % 8 = s.k
    INNER JOIN bank.currencies AS ac ON d.currency = ac.code
    INNER JOIN bank.currencies AS bc ON d.base_currency = bc.code
)

INSERT INTO bank.transactions (
    user_id, account_id, description, category, amount, currency, txn_type, merchant, txn_date, posted_date,
    is_categorized, fx_rate, base_amount
)
SELECT
    user_id,
    account_id,
    description,
    category,
    amount,
    currency,
    'debit',
    merchant,
    txn_date,
    txn_date + 1,
    category IS NOT NULL,
    rate,
    round(amount * rate, base_minor)
FROM purchase;
