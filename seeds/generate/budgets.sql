-- Every generated user's budgets for groceries, entertainment and shopping, this month and the two
-- before: 100-499 in the base currency, in yen 150 times that (round figures, not a rate).
-- Parameters: the settings generate.seed, generate.email_domain and generate.last_day.
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.email_domain') AS email_domain,
        date_trunc('month', current_setting('generate.last_day')::date) AS this_month
)

INSERT INTO bank.budgets (user_id, year, month, category, limit_amount)
SELECT
    u.id,
    extract(YEAR FROM m)::smallint,
    extract(MONTH FROM m)::smallint,
    c.category,
    (100 + abs(hashtextextended('budget' || split_part(u.email, '@', 1) || c.category, p.seed)) % 400)
    * CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END
FROM p
CROSS JOIN bank.users AS u
CROSS JOIN (VALUES ('Groceries'), ('Entertainment'), ('Shopping')) AS c (category)
CROSS JOIN generate_series(p.this_month - interval '2 months', p.this_month, interval '1 month') AS m
WHERE u.email LIKE ('%' || p.email_domain);
