-- Every generated user's three monthly bills in the base currency (in yen 150 times the amount),
-- due between 10 days before and 29 days after the window's last day: some already overdue.
-- Parameters: the settings generate.seed, generate.email_domain and generate.last_day.
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.email_domain') AS email_domain,
        current_setting('generate.last_day')::date AS last_day
)

INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency, recurrence)
SELECT
    u.id,
    b.biller,
    p.last_day + (abs(hashtextextended('due' || split_part(u.email, '@', 1) || b.biller, p.seed)) % 40)::integer - 10,
    round(b.amount * CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END, c.minor_unit),
    u.base_currency,
    'monthly'
FROM p
CROSS JOIN bank.users AS u
INNER JOIN bank.currencies AS c ON u.base_currency = c.code
CROSS JOIN (VALUES ('City Power', 85.50), ('FiberNet', 49.99), ('Water Utility', 31.20)) AS b (biller, amount)
WHERE u.email LIKE ('%' || p.email_domain);
