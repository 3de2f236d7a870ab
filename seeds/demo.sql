-- A small demo data set: three users with accounts in USD, EUR and JPY, three months of
-- transactions up to today, budgets for this month, bills, a rule and a rewards program.
-- The demo users' e-mail ends in @demo.bankdb.test. bankdb seed loads this file only when none of
-- them is there; `--replace-demo` deletes them, and all they own, first.
-- The password hashes are well-formed bcrypt strings of no known password: demo users cannot log in.

SELECT bank.create_transaction_partitions(
    (date_trunc('month', current_date) - interval '3 months')::date,
    (date_trunc('month', current_date) + interval '3 months')::date
);

INSERT INTO bank.users (name, email, password, phone, kyc_status, base_currency)
VALUES
('Ada Lovelace', 'ada@demo.bankdb.test', '$2b$12$' || repeat('a', 53), '+44 20 7946 0001', 'verified', 'USD'),
('Bruno Weber', 'bruno@demo.bankdb.test', '$2b$12$' || repeat('b', 53), '+49 30 901820', 'verified', 'EUR'),
('Chiyo Sato', 'chiyo@demo.bankdb.test', '$2b$12$' || repeat('c', 53), NULL, 'unverified', 'JPY');

INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT
    u.id,
    a.bank_name,
    a.account_type::bank.account_type,
    a.masked_account,
    a.currency,
    a.balance
FROM bank.users AS u
INNER JOIN (
    VALUES
    ('ada@demo.bankdb.test', 'First Demo Bank', 'checking', '****1001', 'USD', 4210.55),
    ('ada@demo.bankdb.test', 'First Demo Bank', 'savings', '****1002', 'USD', 15000.00),
    ('ada@demo.bankdb.test', 'Demo Card Co', 'credit_card', '****1003', 'USD', -820.40),
    ('bruno@demo.bankdb.test', 'Demo Sparkasse', 'checking', '****2001', 'EUR', 2380.10),
    ('bruno@demo.bankdb.test', 'Demo Sparkasse', 'investment', '****2002', 'EUR', 30500.00),
    ('chiyo@demo.bankdb.test', 'Demo Ginko', 'checking', '****3001', 'JPY', 482000)
) AS a (email, bank_name, account_type, masked_account, currency, balance) ON u.email = a.email;

-- Every account: a salary on the 1st, and 40 purchases spread over the last 90 days.
INSERT INTO bank.transactions (
    user_id, account_id, description, category, amount, currency, txn_type, merchant, txn_date, posted_date,
    is_categorized
)
SELECT
    a.user_id,
    a.id,
    m.description,
    m.category,
    -- Whole units for JPY, cents elsewhere.
    round(m.base_amount * (1 + (g.n % 7) / 10.0) * (CASE a.currency WHEN 'JPY' THEN 150 ELSE 1 END), c.minor_unit),
    a.currency,
    'debit',
    m.merchant,
    current_date - (g.n * 9 % 90),
    current_date - (g.n * 9 % 90) + 1,
    TRUE
FROM bank.accounts AS a
INNER JOIN bank.users AS u ON a.user_id = u.id
INNER JOIN bank.currencies AS c ON a.currency = c.code
CROSS JOIN generate_series(1, 40) AS g (n)
INNER JOIN (
    VALUES
    (0, 'Weekly groceries', 'Groceries', 'FreshMart', 62.40),
    (1, 'Electricity bill', 'Utilities', 'City Power', 88.00),
    (2, 'Cinema tickets', 'Entertainment', 'Starlight Cinema', 24.50),
    (3, 'Train pass', 'Transportation', 'Metro Transit', 45.00),
    (4, 'Pharmacy', 'Healthcare', 'GoodHealth Pharmacy', 18.75),
    (5, 'Online order', 'Shopping', 'ShopOnline', 39.99),
    (6, 'Streaming subscription', 'Subscriptions', 'StreamFlix', 12.99)
) AS m (k, description, category, merchant, base_amount) ON g.n % 7 = m.k
WHERE u.email LIKE '%@demo.bankdb.test' AND a.account_type IN ('checking', 'credit_card');

INSERT INTO bank.transactions (
    user_id, account_id, description, category, amount, currency, txn_type, merchant, txn_date, is_categorized
)
SELECT
    a.user_id,
    a.id,
    'Monthly salary',
    'Salary',
    CASE a.currency WHEN 'JPY' THEN 420000 ELSE 5200.00 END,
    a.currency,
    'credit',
    'Demo Employer Ltd',
    (date_trunc('month', current_date) - make_interval(months => g.n))::date,
    TRUE
FROM bank.accounts AS a
INNER JOIN bank.users AS u ON a.user_id = u.id
CROSS JOIN generate_series(0, 2) AS g (n)
WHERE u.email LIKE '%@demo.bankdb.test' AND a.account_type = 'checking';

INSERT INTO bank.budgets (user_id, month, year, category, limit_amount)
SELECT
    u.id,
    extract(MONTH FROM current_date)::smallint,
    extract(YEAR FROM current_date)::smallint,
    b.category,
    b.limit_amount * (CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END)
FROM bank.users AS u
CROSS JOIN (VALUES ('Groceries', 400), ('Entertainment', 100), ('Shopping', 150)) AS b (category, limit_amount)
WHERE u.email LIKE '%@demo.bankdb.test';

INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency, status, auto_pay)
SELECT
    u.id,
    b.biller_name,
    current_date + b.due_in,
    round(b.amount_due * (CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END), c.minor_unit),
    u.base_currency,
    b.status::bank.bill_status,
    b.auto_pay
FROM bank.users AS u
INNER JOIN bank.currencies AS c ON u.base_currency = c.code
CROSS JOIN (
    VALUES
    ('City Power', 12, 88.00, 'upcoming', TRUE),
    ('Home Internet', 5, 49.99, 'upcoming', FALSE),
    ('Water Utility', -4, 31.20, 'overdue', FALSE),
    ('Phone Plan', -20, 25.00, 'paid', TRUE)
) AS b (biller_name, due_in, amount_due, status, auto_pay)
WHERE u.email LIKE '%@demo.bankdb.test';

INSERT INTO bank.rewards (user_id, program_name)
SELECT
    u.id,
    'Demo Miles'
FROM bank.users AS u
WHERE u.email LIKE '%@demo.bankdb.test';

-- Points only move through the ledger, which keeps rewards.points_balance.
INSERT INTO bank.reward_entries (user_id, reward_id, entry_type, points, description)
SELECT
    r.user_id,
    r.id,
    e.entry_type::bank.reward_entry_type,
    e.points,
    e.description
FROM bank.rewards AS r
INNER JOIN bank.users AS u ON r.user_id = u.id
CROSS JOIN
    (VALUES ('earn', 1500, 'Welcome bonus'), ('redeem', 300, 'Coffee voucher')) AS e (entry_type, points, description)
WHERE u.email LIKE '%@demo.bankdb.test';
