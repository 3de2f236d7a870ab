"""The benchmark compares like with like: the seed's schema loads as scripts/bench.py makes it, holds
the same rows, and the seed's queries (the pgbench scripts' own text) answer what the api views
answer for the same user and month."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
from decimal import Decimal
from pathlib import Path

import psycopg

from bankdb import generate

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = sys.modules["bench"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def seed_queries(name: str) -> list[str]:
    """The SELECTs of a pgbench script, its :variables as psycopg parameters."""
    text = (bench.HERE / f"{name}.pgbench").read_text()
    return [re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", line) for line in text.splitlines() if line.startswith("SELECT ")]


def test_the_seed_schema_holds_the_same_rows_and_answers_the_same(db: str) -> None:
    generate.generate(db, users=60, seed=3, heavy_users=1, heavy_transactions=600, batch=30,
                      out=lambda _: None, progress=lambda *_: None)
    with psycopg.connect(db, autocommit=True) as conn:
        bench.load_seed_schema(conn)
        for table in ("users", "accounts", "transactions", "budgets", "bills", "category_rules"):
            assert conn.execute(f"SELECT count(*) FROM seed.{table}").fetchone() == conn.execute(
                f"SELECT count(*) FROM bank.{table}").fetchone(), table
        # Users whose accounts are all in their base currency: the seed sums amounts as they are.
        users = [r[0] for r in conn.execute(
            """
            SELECT u.id FROM bank.users AS u
            WHERE u.email LIKE '%@gen.bankdb.test'
                AND NOT EXISTS (SELECT FROM bank.accounts AS a WHERE a.user_id = u.id AND a.currency <> u.base_currency)
            ORDER BY u.id LIMIT 8
            """
        ).fetchall()]
        assert len(users) >= 5

        dashboard = seed_queries("dashboard_seed")
        assert len(dashboard) == 4
        today = dt.date.today()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        checked = 0
        for uid in users:
            for day in (today, last_month):
                params = {"uid": uid, "year": day.year, "month": day.month}
                conn.execute("SET search_path = seed")
                accounts, spending, budgets, bills = (conn.execute(q, params).fetchall() for q in dashboard)
                conn.execute("RESET search_path")
                with conn.transaction(force_rollback=True):
                    conn.execute("SET LOCAL ROLE bank_app")
                    conn.execute("SELECT api.set_user(%s)", (uid,))
                    assert sorted((i, b, str(t), bal, c) for i, b, t, bal, c in accounts) == sorted(conn.execute(
                        "SELECT id, bank_name, account_type::text, balance, currency FROM api.account_summary"
                    ).fetchall())
                    assert {c or "Other": s for c, s in spending} == dict(conn.execute(
                        "SELECT category, spending FROM api.monthly_spending WHERE month = %s",
                        (day.replace(day=1),),
                    ).fetchall())
                    # The seed rounds (spent / limit) * 100, bankdb spent * 100 / limit: the same to 0.01.
                    mine = conn.execute(
                        "SELECT id, category, limit_amount, spent_amount, percent_spent FROM api.budget_status"
                        " WHERE year = %(year)s AND month = %(month)s", params
                    ).fetchall()
                    assert sorted(b[:4] for b in budgets) == sorted(b[:4] for b in mine)
                    assert all(abs(a[4] - b[4]) <= Decimal("0.01") for a, b in zip(sorted(budgets), sorted(mine)))
                    assert sorted(bills) == sorted(conn.execute(
                        "SELECT id, biller_name, due_date, amount_due FROM api.overdue_bills"
                    ).fetchall())
                checked += bool(spending) + bool(budgets) + bool(bills)
        assert checked >= 10  # the comparisons saw rows, not only empty answers

        # The heavy-month script's query is the dashboard's second, word for word.
        assert seed_queries("heavy_month_seed") == [dashboard[1]]
