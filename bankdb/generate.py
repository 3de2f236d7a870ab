"""Realistic generated data, made on the server, set-based, the same for the same seed.

Every value comes from hashtextextended(key, seed) of what it describes (the user's number, the
account's type, the row's number), never from random() nor from an id: the data does not depend on
the order or the batches it was made in, nor on the ids the database hands out. Users get 1-5
accounts, mostly in their base currency; a typical user about 100 transactions over the months,
the first --heavy-users about 50,000; salaries, budgets, bills and rules; daily exchange rates.
Transactions are loaded with bankdb's own triggers off (foreign keys stay on), their rate and
base amount computed in the same statement, then every total is rebuilt from the raw rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bankdb import db
from bankdb.progress import bar

GENERATED = "@gen.bankdb.test"

# (category, merchants, smallest and largest amount in USD)
SPENDING = """
    (VALUES
        (0, 'Groceries', ARRAY['FreshMart', 'GreenGrocer', 'MegaMart', 'Corner Shop'], 8, 160),
        (1, 'Utilities', ARRAY['City Power', 'Water Utility', 'Gas & Heat', 'FiberNet'], 30, 220),
        (2, 'Entertainment', ARRAY['Starlight Cinema', 'GameHub', 'Bistro 21', 'Concert Hall'], 10, 120),
        (3, 'Transportation', ARRAY['Metro Transit', 'FuelUp', 'CityParking', 'RideShare'], 3, 90),
        (4, 'Healthcare', ARRAY['GoodHealth Pharmacy', 'Dental Care', 'City Clinic'], 12, 300),
        (5, 'Shopping', ARRAY['ShopOnline', 'StyleStore', 'HomeGoods', 'TechWorld'], 15, 400),
        (6, 'Subscriptions', ARRAY['StreamFlix', 'MusicBox', 'CloudDrive', 'NewsDaily'], 5, 25),
        (7, NULL, ARRAY['Unknown Merchant', 'Market Stall'], 2, 60)
    ) AS s (k, category, merchants, low, high)
"""


def generate(conninfo: str, users: int, seed: int = 1, heavy_users: int = 0, heavy_transactions: int = 50_000,
             months: int = 24, batch: int = 2_000, out: Callable[[str], None] = print,
             progress: Callable[[str, int, int, float], None] = bar) -> dict[str, int]:
    """Replace the generated users (their e-mail ends in @gen.bankdb.test) by `users` new ones."""
    with db.connect(conninfo, "bankdb generate") as conn:
        db.become_owner(conn)
        params = {"seed": seed, "months": months, "heavy": heavy_users, "heavy_n": heavy_transactions}
        conn.execute(f"DELETE FROM bank.users WHERE email LIKE '%%{GENERATED}'")
        first, last = conn.execute(
            "SELECT (date_trunc('month', current_date) - make_interval(months => %(months)s - 1))::date,"
            " current_date", params,
        ).fetchone()
        conn.execute("SELECT bank.create_transaction_partitions(%s, %s)", (first, last))
        out(f"Generating {users:,} users ({heavy_users} heavy) over {months} months, seed {seed}...")
        with conn.transaction():
            conn.execute(
                """
                INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)
                SELECT p.base, 'USD', d::date, round(p.mid * (1 + 0.03 * sin(extract(EPOCH FROM d) / 5e6))::numeric, 6)
                FROM (VALUES ('EUR', 1.09), ('GBP', 1.27), ('JPY', 0.0067)) AS p (base, mid)
                CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') AS d
                ON CONFLICT DO NOTHING
                """,
                (first, last),
            )
        started = time.monotonic()
        for offset in range(0, users, batch):
            with conn.transaction():
                conn.execute(
                    f"""
                    INSERT INTO bank.users (name, email, password, base_currency, kyc_status)
                    SELECT 'User ' || n, 'user' || n || '{GENERATED}', '$2b$12$' || repeat('G', 53),
                           (ARRAY['USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP', 'JPY'])[1 + abs(hashtextextended('base' || n, %(seed)s)) %% 7],
                           CASE WHEN abs(hashtextextended('kyc' || n, %(seed)s)) %% 10 < 8 THEN 'verified' ELSE 'unverified' END::bank.kyc_status
                    FROM generate_series(%(lo)s::integer, %(hi)s::integer) AS n
                    """,
                    {**params, "lo": offset + 1, "hi": min(offset + batch, users)},
                )
            progress("users", min(offset + batch, users), users, started)
        # In the order of their number, so the heavy users are always the first ones.
        ids = [r[0] for r in conn.execute(
            f"SELECT id FROM bank.users WHERE email LIKE '%%{GENERATED}'"
            " ORDER BY split_part(substring(email FROM 5), '@', 1)::integer"
        ).fetchall()]
        with conn.transaction():
            conn.execute(
                f"""
                INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
                SELECT u.id, (ARRAY['First Bank', 'City Savings', 'Card Co', 'Trust Bank'])[1 + k %% 4],
                       (ARRAY['checking', 'savings', 'credit_card', 'investment', 'loan'])[k]::bank.account_type,
                       '****' || lpad((abs(hashtextextended('acct' || split_part(u.email, '@', 1) || k, %(seed)s)) %% 10000)::text, 4, '0'),
                       CASE WHEN k = 4 AND u.base_currency = 'USD' THEN 'EUR' ELSE u.base_currency END,
                       round((abs(hashtextextended('bal' || split_part(u.email, '@', 1) || k, %(seed)s)) %% 2000000) / 100.0
                             * CASE WHEN k IN (3, 5) THEN -1 ELSE 1 END, c.minor_unit)
                FROM bank.users AS u
                JOIN bank.currencies AS c ON c.code = u.base_currency
                CROSS JOIN generate_series(1, 5) AS k
                WHERE u.email LIKE '%%{GENERATED}'
                  AND k <= 1 + abs(hashtextextended('accounts' || split_part(u.email, '@', 1), %(seed)s)) %% 5
                """,
                params,
            )
        conn.execute("ALTER TABLE bank.transactions DISABLE TRIGGER USER")
        try:
            started = time.monotonic()
            for i in range(0, len(ids), batch):
                chunk = ids[i:i + batch]
                heavy = ids[:heavy_users]
                with conn.transaction():
                    conn.execute(
                        f"""
                        INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency,
                                                       txn_type, merchant, txn_date, posted_date, is_categorized,
                                                       fx_rate, base_amount)
                        SELECT x.user_id, x.account_id, x.description, x.category, x.amount, x.currency,
                               x.txn_type, x.merchant, x.txn_date, x.txn_date + 1, x.category IS NOT NULL, x.rate,
                               round(x.amount * x.rate, x.base_minor)
                        FROM (
                            SELECT a.user_id, a.id AS account_id, g.h, s.category,
                                   s.merchants[1 + g.h %% cardinality(s.merchants)] AS merchant,
                                   coalesce(s.category, 'Purchase') || ' at ' || s.merchants[1 + g.h %% cardinality(s.merchants)]
                                       AS description,
                                   round((s.low + (g.h / 7 %% 10000) / 10000.0 * (s.high - s.low))
                                         / CASE a.currency WHEN 'JPY' THEN 0.0067 WHEN 'EUR' THEN 1.09
                                                           WHEN 'GBP' THEN 1.27 ELSE 1 END, ac.minor_unit) + 1 AS amount,
                                   a.currency, 'debit'::bank.txn_type AS txn_type,
                                   %(last)s::date - (g.h / 13 %% (%(days)s))::integer AS txn_date,
                                   CASE WHEN a.currency = u.base_currency THEN 1
                                        ELSE bank.find_exchange_rate(a.currency, u.base_currency,
                                                                     %(last)s::date - (g.h / 13 %% (%(days)s))::integer)
                                   END AS rate,
                                   bc.minor_unit AS base_minor
                            FROM bank.users AS u
                            JOIN bank.currencies AS bc ON bc.code = u.base_currency
                            JOIN bank.accounts AS a ON a.user_id = u.id AND a.account_type IN ('checking', 'credit_card')
                            JOIN bank.currencies AS ac ON ac.code = a.currency
                            CROSS JOIN LATERAL generate_series(
                                1, CASE WHEN u.id = ANY(%(heavy_ids)s) THEN %(heavy_n)s
                                        ELSE 30 + abs(hashtextextended('n' || split_part(u.email, '@', 1) || a.account_type, %(seed)s)) %% 100 END
                                   / (SELECT count(*) FROM bank.accounts AS b WHERE b.user_id = u.id
                                      AND b.account_type IN ('checking', 'credit_card'))::integer
                            ) AS n
                            CROSS JOIN LATERAL (SELECT abs(hashtextextended(split_part(u.email, '@', 1) || ':' || a.account_type || ':' || n, %(seed)s)) AS h) AS g
                            JOIN {SPENDING} ON s.k = g.h %% 8
                            WHERE u.id = ANY(%(ids)s)
                        ) AS x
                        """,
                        {**params, "ids": chunk, "heavy_ids": heavy, "last": last, "days": (last - first).days + 1},
                    )
                    conn.execute(
                        """
                        INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency,
                                                       txn_type, merchant, txn_date, is_categorized, fx_rate, base_amount)
                        -- Paid into a base-currency account: the base amount is the amount.
                        SELECT a.user_id, a.id, 'Monthly salary', 'Salary', pay.amount,
                               a.currency, 'credit', 'Employer Ltd', m::date, TRUE, 1, pay.amount
                        FROM bank.users AS u
                        JOIN bank.accounts AS a ON a.user_id = u.id AND a.account_type = 'checking'
                        JOIN bank.currencies AS c ON c.code = a.currency
                        CROSS JOIN LATERAL (
                            SELECT round((2500 + abs(hashtextextended('salary' || split_part(u.email, '@', 1), %(seed)s)) %% 6000)
                                         / CASE a.currency WHEN 'JPY' THEN 0.0067 WHEN 'EUR' THEN 1.09
                                                           WHEN 'GBP' THEN 1.27 ELSE 1 END, c.minor_unit) AS amount
                        ) AS pay
                        CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
                        WHERE u.id = ANY(%(ids)s) AND a.currency = u.base_currency
                        """,
                        {**params, "ids": chunk, "first": first, "last": last},
                    )
                progress("transactions", min(i + batch, len(ids)), len(ids), started)
        finally:
            conn.execute("ALTER TABLE bank.transactions ENABLE TRIGGER USER")
        with conn.transaction():
            conn.execute(
                f"""
                INSERT INTO bank.budgets (user_id, year, month, category, limit_amount)
                SELECT u.id, extract(YEAR FROM m)::smallint, extract(MONTH FROM m)::smallint, c.category,
                       (100 + abs(hashtextextended('budget' || split_part(u.email, '@', 1) || c.category, %(seed)s)) %% 400)
                       * CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END
                FROM bank.users AS u
                CROSS JOIN (VALUES ('Groceries'), ('Entertainment'), ('Shopping')) AS c (category)
                CROSS JOIN generate_series(date_trunc('month', %(last)s::date) - interval '2 months',
                                           date_trunc('month', %(last)s::date), interval '1 month') AS m
                WHERE u.email LIKE '%%{GENERATED}'
                """,
                {**params, "last": last},
            )
            conn.execute(
                f"""
                INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency, recurrence)
                SELECT u.id, b.biller, %(last)s::date + (abs(hashtextextended('due' || split_part(u.email, '@', 1) || b.biller, %(seed)s)) %% 40)::integer - 10,
                       round(b.amount * CASE u.base_currency WHEN 'JPY' THEN 150 ELSE 1 END, c.minor_unit),
                       u.base_currency, 'monthly'
                FROM bank.users AS u
                JOIN bank.currencies AS c ON c.code = u.base_currency
                CROSS JOIN (VALUES ('City Power', 85.50), ('FiberNet', 49.99), ('Water Utility', 31.20)) AS b (biller, amount)
                WHERE u.email LIKE '%%{GENERATED}'
                """,
                {**params, "last": last},
            )
            conn.execute(
                f"""
                INSERT INTO bank.category_rules (user_id, category, merchant_pattern, priority)
                SELECT u.id, 'Groceries', 'market|grocer', 1
                FROM bank.users AS u WHERE u.email LIKE '%%{GENERATED}'
                """
            )
        out("Rebuilding the totals from the raw rows...")
        conn.execute("SELECT bank.rebuild_totals()")
        conn.execute("SELECT bank.mark_overdue_bills()")
        conn.execute("ANALYZE")
        counts = dict(conn.execute(
            f"""
            SELECT 'users', count(*) FROM bank.users WHERE email LIKE '%%{GENERATED}'
            UNION ALL SELECT 'accounts', count(*) FROM bank.accounts AS a JOIN bank.users AS u ON u.id = a.user_id
                WHERE u.email LIKE '%%{GENERATED}'
            UNION ALL SELECT 'transactions', count(*) FROM bank.transactions AS t JOIN bank.users AS u ON u.id = t.user_id
                WHERE u.email LIKE '%%{GENERATED}'
            """
        ).fetchall())
        out(f"Generated {counts['users']:,} users, {counts['accounts']:,} accounts, "
            f"{counts['transactions']:,} transactions.")
        return counts
