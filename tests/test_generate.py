"""The data generator: realistic shape, exact totals, the same data for the same seed."""

from __future__ import annotations

import psycopg

from bankdb import generate

SIGNATURE = """
    SELECT md5(string_agg(concat_ws('|', split_part(u.email, '@', 1), a.account_type, a.currency, t.txn_date,
                                    t.description, t.category, t.amount, t.txn_type, t.base_amount),
                          ',' ORDER BY split_part(u.email, '@', 1), a.account_type, t.txn_date, t.description, t.amount))
    FROM bank.transactions AS t
    JOIN bank.accounts AS a ON (a.user_id, a.id) = (t.user_id, t.account_id)
    JOIN bank.users AS u ON u.id = t.user_id
    WHERE u.email LIKE '%@gen.bankdb.test'
"""


def run(db: str, seed: int) -> tuple[dict, str, list]:
    counts = generate.generate(db, users=150, seed=seed, heavy_users=1, heavy_transactions=2_000,
                               batch=40, out=lambda _: None, progress=lambda *_: None)
    with psycopg.connect(db) as conn:
        per_user = [r[0] for r in conn.execute(
            "SELECT count(*) FROM bank.transactions GROUP BY user_id ORDER BY 1"
        ).fetchall()]
        drift = conn.execute("SELECT * FROM bank.verify_totals()").fetchall()
        assert drift == []
        # Bills due before today are overdue, as the scheduler would have left them.
        late, overdue = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'upcoming' AND due_date < current_date),"
            " count(*) FILTER (WHERE status = 'overdue') FROM bank.bills"
        ).fetchone()
        assert late == 0 and overdue > 0
        return counts, conn.execute(SIGNATURE).fetchone()[0], per_user


def test_generated_data_is_realistic_exact_and_deterministic(db: str) -> None:
    counts, signature, per_user = run(db, seed=7)
    assert counts["users"] == 150
    assert 150 <= counts["accounts"] <= 750  # 1-5 each
    assert 2_000 <= per_user[-1] <= 2_100  # the heavy user: its purchases and a salary a month
    assert 60 <= per_user[len(per_user) // 2] <= 180  # a typical user, about 100 over 24 months
    again = run(db, seed=7)  # replaces the generated users
    assert (again[0], again[1]) == (counts, signature)
    assert run(db, seed=8)[1] != signature
