-- What the benchmark adds to a generated bankdb database, as a superuser, before the seed's copy
-- is made from it: users for the single-row inserts, an import user, and the rows it imports.
-- Parameters: the settings bench.insert_users, bench.import_rows and bench.first_day (of the months).
CREATE SCHEMA bench;
COMMENT ON SCHEMA bench IS 'The benchmark''s own data (scripts/bench.py); not part of bankdb.';
CREATE TABLE bench.meta (params jsonb NOT NULL);

-- Users k = 0 .. insert_users - 1 with one checking account each, numbered in the same order, so
-- pgbench finds a user's account as account_base + k. Every fourth account is in EUR: its rows are
-- converted into the user's USD.
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

-- The import user: a USD and a EUR account, no history yet.
INSERT INTO bank.users (name, email, password, base_currency, kyc_status)
VALUES ('Import user', 'import@bench.bankdb.test', '$2b$12$' || repeat('I', 53), 'USD', 'verified');

INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT
    u.id,
    'Import Bank',
    'checking',
    '****' || c.last4,
    c.currency,
    0
FROM bank.users AS u
CROSS JOIN (VALUES ('USD', '1111'), ('EUR', '2222')) AS c (currency, last4)
WHERE u.email = 'import@bench.bankdb.test';

-- Its history: import_rows card payments and salaries over the generated months, one in eight
-- without a category (left to its rules), one in four from the EUR account.
CREATE TABLE bench.import_rows AS
SELECT
    a.id AS account_id,
    coalesce(s.category, 'Purchase') || ' at ' || s.merchant AS description,
    s.category,
    round(s.low + (g * 7919 % 10000) / 10000.0 * (s.high - s.low), 2) AS amount,
    a.currency,
    CASE WHEN s.category = 'Salary' THEN 'credit' ELSE 'debit' END AS txn_type,
    s.merchant,
    (current_date - (g * 31 % (current_date - current_setting('bench.first_day')::date + 1))::integer) AS txn_date
FROM generate_series(1, current_setting('bench.import_rows')::bigint) AS g
INNER JOIN (
    VALUES
    (0, 'Groceries', 'FreshMart', 8, 160),
    (1, 'Shopping', 'ShopOnline', 15, 400),
    (2, NULL, 'Market Stall', 2, 60),
    (3, 'Entertainment', 'GameHub', 10, 120),
    (4, 'Transportation', 'FuelUp', 3, 90),
    (5, 'Healthcare', 'City Clinic', 12, 300),
    (6, 'Utilities', 'City Power', 30, 220),
    (7, 'Salary', 'Employer Ltd', 2500, 8500)
) AS s (k, category, merchant, low, high) ON g % 8 = s.k
INNER JOIN bank.users AS u ON u.email = 'import@bench.bankdb.test'
INNER JOIN bank.accounts AS a
    ON
        u.id = a.user_id
        AND a.currency = CASE WHEN g % 4 = 1 THEN 'EUR' ELSE 'USD' END;

-- The same rows as the JSON an application sends to the import API, one array per account (the API
-- imports into one account per call): serialized here, once, so that the measured statement does
-- what the server does with a request, parse the text, and not the application's serializing.
-- Stored uncompressed, as a request arrives.
CREATE TABLE bench.import_json (
    account_id bigint NOT NULL,
    body text NOT NULL
);
ALTER TABLE bench.import_json ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO bench.import_json (account_id, body)
SELECT
    r.account_id,
    jsonb_agg(
        jsonb_build_object(
            'txn_date', r.txn_date, 'amount', r.amount, 'txn_type', r.txn_type, 'description', r.description,
            'merchant', r.merchant, 'category', r.category, 'currency', r.currency, 'posted_date', r.txn_date
        )
    )::text
FROM bench.import_rows AS r
GROUP BY r.account_id;
