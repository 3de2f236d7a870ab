-- Every generated user's 1-5 accounts (checking first, then savings, credit card, investment,
-- loan), in the user's base currency but for a US user's investment account, in EUR. Credit card
-- and loan balances are negative.
-- Parameters: the settings generate.seed and generate.email_domain.
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.email_domain') AS email_domain
)

INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT
    u.id,
    (ARRAY['First Bank', 'City Savings', 'Card Co', 'Trust Bank'])[1 + k % 4],
    (ARRAY['checking', 'savings', 'credit_card', 'investment', 'loan'])[k]::bank.account_type,
    '****' || lpad(
        (abs(hashtextextended('acct' || split_part(u.email, '@', 1) || k, p.seed)) % 10000)::text, 4, '0'
    ),
    CASE WHEN k = 4 AND u.base_currency = 'USD' THEN 'EUR' ELSE u.base_currency END,
    round(
        (abs(hashtextextended('bal' || split_part(u.email, '@', 1) || k, p.seed)) % 2000000) / 100.0
        * CASE WHEN k IN (3, 5) THEN -1 ELSE 1 END,
        c.minor_unit
    )
FROM p
CROSS JOIN bank.users AS u
INNER JOIN bank.currencies AS c ON u.base_currency = c.code
CROSS JOIN generate_series(1, 5) AS k
WHERE
    u.email LIKE ('%' || p.email_domain)
    AND k <= 1 + abs(hashtextextended('accounts' || split_part(u.email, '@', 1), p.seed)) % 5;
