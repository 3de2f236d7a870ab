-- The users of the single-row insert runs (scripts/citus/README.md, "Inserts"): the first part of
-- scripts/bench/setup.sql, run as a superuser on each database before `bankdb distribute`.
-- Parameter: the setting bench.insert_users. Users k = 0 .. insert_users - 1 with one checking
-- account each, numbered in the same order, so pgbench finds a user's account as account_base + k
-- (user_base + k the user). Every fourth account is in EUR, its rows converted into the user's USD.
INSERT INTO bank.users (name, email, password, base_currency, kyc_status)
SELECT
    'Bench user ' || k,
    'bench' || k || '@bench.bankdb.test',
    '$2b$12$' || repeat('B', 53),
    'USD',
    'verified'
FROM generate_series(0, current_setting('bench.insert_users')::integer - 1) AS k
ORDER BY k;

INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT
    u.id,
    'Bench Bank',
    'checking',
    '****' || lpad((u.id % 10000)::text, 4, '0'),
    CASE WHEN (u.id - min(u.id) OVER ()) % 4 = 0 THEN 'EUR' ELSE 'USD' END,
    1000
FROM bank.users AS u
WHERE u.email LIKE 'bench%@bench.bankdb.test'
ORDER BY u.id;

INSERT INTO bank.category_rules (user_id, category, merchant_pattern, priority)
SELECT
    id,
    'Groceries',
    'market|grocer',
    1
FROM bank.users
WHERE email LIKE 'bench%@bench.bankdb.test';

INSERT INTO bank.budgets (user_id, year, month, category, limit_amount)
SELECT
    u.id,
    extract(YEAR FROM current_date)::smallint,
    extract(MONTH FROM current_date)::smallint,
    c.category,
    500
FROM bank.users AS u
CROSS JOIN (VALUES ('Groceries'), ('Shopping'), ('Entertainment')) AS c (category)
WHERE u.email LIKE 'bench%@bench.bankdb.test';
