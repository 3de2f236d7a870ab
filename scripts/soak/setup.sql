-- The soak's users and what each starts with (scripts/soak.py), made as a superuser on a freshly
-- migrated database. Parameters: the settings soak.users (how many users), soak.today (the run's
-- date) and soak.keywords (a JSON object: each rule keyword and the category its rules give).
-- Every user keeps totals in USD; every third user also holds a card account in EUR, converted at
-- the one rate below, so the reference can compute each base amount.
INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)
VALUES ('EUR', 'USD', '2000-01-01', 1.0837);

INSERT INTO bank.users (name, email, password, base_currency, kyc_status)
SELECT
    'Soak user ' || k,
    'soak' || k || '@soak.bankdb.test',
    '$2b$12$' || repeat('S', 53),
    'USD',
    'verified'
FROM generate_series(0, current_setting('soak.users')::integer - 1) AS k
ORDER BY k;

INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT
    u.id,
    'Soak Bank',
    a.account_type::bank.account_type,
    a.masked_account,
    a.currency,
    a.balance
FROM bank.users AS u
CROSS JOIN (
    VALUES
    ('checking', '****0001', 'USD', 1000000.00),
    ('savings', '****0002', 'USD', 50000.00),
    ('credit_card', '****0003', 'EUR', 0)
) AS a (account_type, masked_account, currency, balance)
WHERE u.email LIKE 'soak%@soak.bankdb.test' AND (a.account_type <> 'credit_card' OR u.id % 3 = 0)
ORDER BY u.id, a.masked_account;

-- The base rules: one active rule per keyword, never changed by the clients, so a row whose
-- description holds a keyword is categorized when it is written (the clients' own rules give the
-- same category for the same keyword).
INSERT INTO bank.category_rules (user_id, category, keyword_pattern, priority)
SELECT
    u.id,
    k.value,
    k.key,
    0
FROM bank.users AS u
CROSS JOIN jsonb_each_text(current_setting('soak.keywords')::jsonb) AS k
WHERE u.email LIKE 'soak%@soak.bankdb.test'
ORDER BY u.id, k.key;

-- Two monthly bills per user, first due ten days after the run's date.
INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency, recurrence, series_start)
SELECT
    u.id,
    b.biller_name,
    current_setting('soak.today')::date + 10,
    b.amount_due,
    'USD',
    'monthly',
    current_setting('soak.today')::date + 10
FROM bank.users AS u
CROSS JOIN (VALUES ('Soak Power', 80.00), ('Soak Phone', 45.50)) AS b (biller_name, amount_due)
WHERE u.email LIKE 'soak%@soak.bankdb.test'
ORDER BY u.id, b.biller_name;

INSERT INTO bank.rewards (user_id, program_name)
SELECT
    u.id,
    'Soak Points'
FROM bank.users AS u
WHERE u.email LIKE 'soak%@soak.bankdb.test'
ORDER BY u.id;
