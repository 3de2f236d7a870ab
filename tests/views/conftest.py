"""A generated data set: users in two base currencies, accounts in three currencies, a year of
transactions of every kind, budgets, bills in every status, alerts, rewards, tags and an audit trail."""

from __future__ import annotations

import psycopg
import pytest

GENERATE = """
INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate) VALUES
    ('EUR', 'USD', '2024-12-01', 1.1), ('EUR', 'USD', '2025-07-01', 1.2), ('USD', 'JPY', '2024-12-01', 150);
INSERT INTO bank.users (name, email, password, base_currency, is_admin)
SELECT 'User ' || g, 'user' || g || '@example.com', '$2b$12$' || repeat('G', 53),
       CASE WHEN g % 2 = 0 THEN 'EUR' ELSE 'USD' END, g = 1
FROM generate_series(1, 6) AS g;
INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance, disabled_at)
SELECT u.id, 'Bank ' || k, (ARRAY['checking', 'savings', 'credit_card', 'loan'])[k]::bank.account_type,
       '****' || lpad((u.id * 10 + k)::text, 4, '0'), (ARRAY['USD', 'EUR', 'JPY', 'USD'])[k],
       CASE k WHEN 3 THEN -1234 WHEN 4 THEN -5000.50 ELSE 1000 * k + u.id END,
       CASE WHEN k = 2 AND u.id % 3 = 0 THEN now() END
FROM bank.users AS u CROSS JOIN generate_series(1, 4) AS k;
INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type, merchant,
                               txn_date, kind, transfer_id)
SELECT a.user_id, a.id, 'Txn ' || g, (ARRAY['Groceries', 'Shopping', 'Salary', NULL, 'Utilities'])[1 + g % 5],
       CASE WHEN a.currency = 'JPY' THEN 100 + g ELSE (g % 997) / 10.0 + 0.05 END, a.currency,
       (ARRAY['debit', 'debit', 'credit'])[1 + g % 3]::bank.txn_type,
       (ARRAY['FreshMart', 'ShopOnline', 'City Power', NULL, 'Cafe'])[1 + (g * 7) % 5],
       DATE '2025-01-01' + ((g * 13 + a.id) % 365)::integer,
       (ARRAY['regular', 'regular', 'regular', 'card_payment', 'loan_payment'])[1 + g % 5]::bank.txn_kind, NULL
FROM bank.accounts AS a CROSS JOIN generate_series(1, 40) AS g;
INSERT INTO bank.budgets (user_id, year, month, category, limit_amount, warning_percent)
SELECT u.id, 2025, m, c, 50 + 25 * m, 75
FROM bank.users AS u CROSS JOIN generate_series(1, 12, 3) AS m CROSS JOIN unnest(ARRAY['Groceries', 'Shopping']) AS c;
INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency, status)
SELECT u.id, 'Biller ' || s, current_date + (s * 5 - 8)::integer, 10 * s, u.base_currency,
       (ARRAY['upcoming', 'overdue', 'paid', 'upcoming'])[s]::bank.bill_status
FROM bank.users AS u CROSS JOIN generate_series(1, 4) AS s;
UPDATE bank.accounts SET low_balance_threshold = balance + 1 WHERE account_type = 'checking';  -- an alert each
UPDATE bank.alerts SET is_read = TRUE WHERE user_id % 3 = 0;
INSERT INTO bank.rewards (user_id, program_name) SELECT id, 'Miles' FROM bank.users;
INSERT INTO bank.reward_entries (user_id, reward_id, entry_type, points)
SELECT r.user_id, r.id, 'earn', 100 * r.user_id FROM bank.rewards AS r;
INSERT INTO bank.reward_entries (user_id, reward_id, entry_type, points)
SELECT r.user_id, r.id, 'redeem', 30 FROM bank.rewards AS r WHERE r.user_id % 2 = 1;
INSERT INTO bank.statements (user_id, account_id, period_start, period_end, opening_balance, closing_balance)
SELECT a.user_id, a.id, make_date(2025, m, 1), (make_date(2025, m, 1) + interval '1 month - 1 day')::date,
       100 * m, 100 * m + 10 * a.id
FROM bank.accounts AS a CROSS JOIN generate_series(1, 3) AS m WHERE a.account_type IN ('checking', 'credit_card');
UPDATE bank.statements SET reconciled_at = now() WHERE period_start = '2025-02-01';
INSERT INTO bank.recurring_candidates (user_id, merchant_key, recurrence, currency, merchant, typical_amount,
                                       occurrences, first_date, last_date, next_expected_date)
SELECT u.id, 'gym', 'monthly', u.base_currency, 'Gym', 20 + u.id, 6, '2025-01-05', '2025-06-05', '2025-07-05'
FROM bank.users AS u;
UPDATE bank.recurring_candidates SET status = 'dismissed', decided_at = now() WHERE user_id % 2 = 0;
INSERT INTO bank.tags (user_id, name)
SELECT u.id, n FROM bank.users AS u CROSS JOIN unnest(ARRAY['Trip', 'Work', 'Unused']) AS n;
INSERT INTO bank.transaction_tags (user_id, txn_date, transaction_id, tag_id)
SELECT t.user_id, t.txn_date, t.id, g.id
FROM bank.transactions AS t INNER JOIN bank.tags AS g ON g.user_id = t.user_id
WHERE (g.name = 'Trip' AND t.id % 4 = 0) OR (g.name = 'Work' AND t.id % 6 = 0);
-- Every fifth regular transaction of at least 1.00 split in two: a third in Utilities, the rest in
-- Groceries (lines that sum to its amount, in its currency's scale; the shares are bankdb's).
INSERT INTO bank.transaction_splits (user_id, txn_date, transaction_id, line_no, category, amount)
SELECT t.user_id, t.txn_date, t.id, x.line_no, x.category, x.amount
FROM bank.transactions AS t
INNER JOIN bank.currencies AS c ON c.code = t.currency
CROSS JOIN LATERAL (VALUES
    (1, 'Utilities', round(t.amount / 3, c.minor_unit)),
    (2, 'Groceries', t.amount - round(t.amount / 3, c.minor_unit))
) AS x (line_no, category, amount)
WHERE t.kind = 'regular' AND t.id % 5 = 0 AND t.amount >= 1;
SELECT bank.admin_verify_kyc(a.id, u.id)
FROM bank.users AS u, (SELECT min(id) AS id FROM bank.users WHERE is_admin) AS a WHERE u.id > a.id + 2;
"""


@pytest.fixture
def data(conn: psycopg.Connection) -> list[int]:
    """Generate the data set; returns the user ids."""
    conn.execute(GENERATE)
    return [r[0] for r in conn.execute("SELECT id FROM bank.users ORDER BY id").fetchall()]
