"""At a million transactions for one user, every view's query reaches transactions by an index."""

from __future__ import annotations

import json

import psycopg
import pytest

from ..helpers import make_account, make_user
from ..security.conftest import acting

# What an application asks each view; %(user)s is the heavy user.
QUERIES = {
    "account_summary": "SELECT * FROM api.account_summary ORDER BY created_at DESC",
    "monthly_spending": "SELECT * FROM api.monthly_spending WHERE month = '2025-06-01' ORDER BY spending DESC",
    "budget_status": "SELECT * FROM api.budget_status WHERE year = 2025 AND month = 6",
    "overdue_bills": "SELECT * FROM api.overdue_bills ORDER BY due_date",
    "upcoming_bills": "SELECT * FROM api.upcoming_bills ORDER BY due_date",
    "unread_alerts": "SELECT * FROM api.unread_alerts ORDER BY created_at DESC LIMIT 20",
    "recent_transactions": "SELECT * FROM api.recent_transactions ORDER BY txn_date DESC, id DESC LIMIT 50",
    "recent_transactions in a period": "SELECT * FROM api.recent_transactions"
    " WHERE txn_date >= '2025-06-01' AND txn_date < '2025-07-01' ORDER BY txn_date DESC",
    "top_merchants": "SELECT * FROM api.top_merchants WHERE month = '2025-06-01' ORDER BY spending DESC LIMIT 10",
    "cash_flow": "SELECT * FROM api.cash_flow WHERE month >= '2025-01-01' ORDER BY month",
    "net_worth": "SELECT * FROM api.net_worth",
    "rewards_summary": "SELECT * FROM api.rewards_summary",
    "admin_user_overview": "SELECT * FROM api.admin_user_overview WHERE user_id = %(user)s",
    "admin_audit_trail": "SELECT * FROM api.admin_audit_trail ORDER BY timestamp DESC LIMIT 50",
}
ROWS = 1_000_000


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture(scope="module")
def heavy(module_db: str):
    """One user with a million transactions over 2025 and a few light users, analyzed; rolled back after."""
    with psycopg.connect(module_db) as conn:
        users = [make_user(conn, f"light{i}@example.com") for i in range(5)]
        heavy_user = make_user(conn, "heavy@example.com")
        # Only 2025's partitions, which the rows below fill: migrate also makes this month's and the next
        # ones, empty, and the planner rightly reads an empty partition without its index.
        for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'bank_partitions'::regnamespace AND relkind = 'r'"
            " AND relname NOT LIKE 'transactions\\_2025\\_%'"
        ).fetchall():
            conn.execute(f"DROP TABLE bank_partitions.{name}")
        accounts = [make_account(conn, u["id"]) for u in [*users, heavy_user]]
        # Triggers off to generate quickly; the totals are rebuilt from the raw rows afterwards.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            """
            INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type,
                                           merchant, txn_date, fx_rate, base_amount)
            SELECT a.user_id, a.id, 'Purchase', (ARRAY['Groceries', 'Shopping', 'Utilities'])[1 + g %% 3],
                   (g %% 5000) / 100.0 + 1, 'USD', 'debit', 'Merchant ' || (g %% 200),
                   DATE '2025-01-01' + (g %% 365)::integer, 1, (g %% 5000) / 100.0 + 1
            FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS a (user_id, id, n)
            CROSS JOIN LATERAL generate_series(1, a.n) AS g
            """,
            ([a["user_id"] for a in accounts], [a["id"] for a in accounts], [200] * len(users) + [ROWS]),
        )
        conn.execute("SET LOCAL session_replication_role = origin")
        conn.execute("SELECT bank.rebuild_totals()")
        conn.execute("ANALYZE bank.transactions")
        conn.execute("ANALYZE bank.monthly_totals")
        yield conn, heavy_user["id"]
        conn.rollback()


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_views_query_uses_an_index_on_transactions(heavy, name: str) -> None:
    conn, user = heavy
    role = "bank_admin" if name.startswith("admin") else "bank_app"
    with acting(conn, role, user):
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + QUERIES[name], {"user": user}).fetchone()[0][0]["Plan"]
    scans = [(n["Node Type"], n.get("Relation Name", "")) for n in nodes(plan) if "Relation Name" in n]
    on_transactions = [s for s in scans if s[1].startswith("transactions_")]
    assert [s for s in on_transactions if s[0] == "Seq Scan"] == [], json.dumps(plan, indent=1)[:3000]
    if name in ("recent_transactions in a period", "top_merchants"):
        # One month, one partition: pruned when planning (a date range) or when running (a month
        # joined from the totals), so what ran is read from EXPLAIN ANALYZE.
        with acting(conn, role, user):
            ran = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + QUERIES[name]).fetchone()[0][0]["Plan"]
        assert {n["Relation Name"] for n in nodes(ran)
                if n.get("Relation Name", "").startswith("transactions_") and n.get("Actual Loops", 0) > 0
                } == {"transactions_2025_06"}


def test_the_heavy_user_really_has_a_million_transactions(heavy) -> None:
    conn, user = heavy
    assert conn.execute("SELECT count(*) FROM bank.transactions WHERE user_id = %s", (user,)).fetchone()[0] == ROWS
