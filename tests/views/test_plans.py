"""At a million transactions for one user, every view's query reaches transactions by an index."""

from __future__ import annotations

import json
from datetime import date

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
    "tags": "SELECT * FROM api.tags ORDER BY lower(name)",
    "tag_monthly_totals": "SELECT * FROM api.tag_monthly_totals WHERE tag_id = %(tag)s ORDER BY month",
    "tagged_transactions": "SELECT * FROM api.tagged_transactions WHERE tag_id = %(tag)s"
    " ORDER BY txn_date DESC, id DESC LIMIT 50",
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
        # Two tags: one on every 100th transaction of the heavy user (10,000), one on a hundred of them.
        tags = [conn.execute("INSERT INTO bank.tags (user_id, name) VALUES (%s, %s) RETURNING id",
                             (heavy_user["id"], name)).fetchone()[0] for name in ("Often", "Rarely")]
        conn.execute(
            """
            INSERT INTO bank.transaction_tags (user_id, txn_date, transaction_id, tag_id)
            SELECT t.user_id, t.txn_date, t.id, CASE WHEN t.id %% 10000 = 0 THEN %s ELSE %s END
            FROM bank.transactions AS t WHERE t.user_id = %s AND t.id %% 100 = 0
            """,
            (tags[1], tags[0], heavy_user["id"]),
        )
        conn.execute("ANALYZE bank.transactions")
        conn.execute("ANALYZE bank.monthly_totals")
        conn.execute("ANALYZE bank.transaction_tags")
        yield conn, heavy_user["id"], tags[0]
        conn.rollback()


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_views_query_uses_an_index_on_transactions(heavy, name: str) -> None:
    conn, user, tag = heavy
    role = "bank_admin" if name.startswith("admin") else "bank_app"
    with acting(conn, role, user):
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + QUERIES[name], {"user": user, "tag": tag}).fetchone()[0][0]["Plan"]
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
    conn, user, _ = heavy
    assert conn.execute("SELECT count(*) FROM bank.transactions WHERE user_id = %s", (user,)).fetchone()[0] == ROWS


# -- api.search_transactions: the statements it runs, as auto_explain reports them -------------------------


def searched(conn: psycopg.Connection, user: int, *args) -> tuple[list[tuple], list[dict]]:
    """The search's rows, and the plans (with what ran) of its statements that read bank.transactions."""
    notices: list[str] = []

    def keep(diagnostic: psycopg.errors.Diagnostic) -> None:
        notices.append(diagnostic.message_primary or "")

    conn.add_notice_handler(keep)
    conn.execute("LOAD 'auto_explain'")
    for setting, value in (("log_min_duration", "0"), ("log_nested_statements", "on"), ("log_analyze", "on"),
                           ("log_format", "json"), ("log_level", "notice")):
        conn.execute(f"SET LOCAL auto_explain.{setting} = '{value}'")
    try:
        with acting(conn, "bank_app", user):
            rows = conn.execute(
                "SELECT rank, match, txn_date, merchant FROM api.search_transactions(%s, %s, %s, %s)", args
            ).fetchall()
    finally:
        conn.execute("SET LOCAL auto_explain.log_min_duration = '-1'")
        conn.remove_notice_handler(keep)
    plans = [json.loads(n.split("plan:", 1)[1]) for n in notices if n.startswith("duration:")]
    return rows, [p for p in plans if "FROM bank.transactions AS t" in p["Query Text"]]


def ran(plan: dict) -> list[tuple[str, str, str]]:
    """(node type, partition, index) of each scan of a transactions partition that ran."""
    return [(n["Node Type"], n["Relation Name"], n.get("Index Name", ""))
            for n in nodes(plan["Plan"]) if n.get("Relation Name", "").startswith("transactions_")
            and n.get("Actual Loops", 0) > 0] + [
        ("Bitmap Index Scan", "", n["Index Name"]) for n in nodes(plan["Plan"])
        if n["Node Type"] == "Bitmap Index Scan" and n.get("Actual Loops", 0) > 0]


def slices(plans: list[dict]) -> list[list[tuple]]:
    """The scans of each slice query (the ones matching the words), in the order they ran."""
    return [ran(p) for p in plans if "ILIKE v_pattern" in p["Query Text"] or "<%" in p["Query Text"]]


def test_a_frequent_word_is_found_from_the_trigram_index_in_the_newest_month_alone(heavy) -> None:
    conn, user, _ = heavy
    rows, plans = searched(conn, user, "merchant 199", None, None, 50)
    # 5,000 of the million hold it; the newest 50, all in December, whose slice alone was read.
    assert [(r[0], r[1], r[3]) for r in rows] == [(i, "substring", "Merchant 199") for i in range(1, 51)]
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)
    assert rows[0][2] == date(2025, 12, 31)
    assert slices(plans) == [[
        ("Bitmap Heap Scan", "transactions_2025_12", ""),
        ("Bitmap Index Scan", "", "transactions_2025_12_user_id_description_merchant_idx"),
    ]]
    assert all(scan[0] != "Seq Scan" for plan in plans for scan in ran(plan)), plans


def test_a_word_the_user_never_used_costs_an_index_probe_per_partition(heavy) -> None:
    conn, user, _ = heavy
    rows, plans = searched(conn, user, "netflix", None, None, 50)
    assert rows == []
    # Each stage (substring, similar) reads every month once, in slices of 1, 2, 4 and 5 months, from the
    # trigram index only.
    read = slices(plans)
    assert [len([s for s in q if s[0] == "Bitmap Heap Scan"]) for q in read] == [1, 2, 4, 5] * 2
    months = [sorted(s[1] for s in q if s[0] == "Bitmap Heap Scan") for q in read[:4]]
    assert sorted(sum(months, [])) == [f"transactions_2025_{m:02d}" for m in range(1, 13)]
    assert {s[2] for q in read for s in q if s[0] == "Bitmap Index Scan"} == {
        f"transactions_2025_{m:02d}_user_id_description_merchant_idx" for m in range(1, 13)
    }
    assert all(scan[0] != "Seq Scan" for plan in plans for scan in ran(plan)), plans


def test_an_older_substring_match_ranks_above_newer_similar_words(heavy) -> None:
    conn, user, _ = heavy
    account = conn.execute("SELECT id FROM bank.accounts WHERE user_id = %s", (user,)).fetchone()[0]
    with conn.transaction(force_rollback=True):
        conn.execute(
            """
            INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, merchant,
                                           txn_date)
            SELECT %s, %s, 'Purchase', 9.99, 'USD', 'debit', m, d::date
            FROM (VALUES ('NETFLIX.COM', '2025-01-15'), ('Netflx', '2025-12-30'), ('Netflx', '2025-12-29'),
                         ('Netfl1x', '2025-11-02')) AS v (m, d)
            """,
            (user, account),
        )
        rows, plans = searched(conn, user, "netflix", "2025-01-01", "2025-12-31", 2)
    # The January substring match is found after three slices without one; the similar words come from
    # December's slice, which holds the one more that the limit needs.
    assert rows == [(1, "substring", date(2025, 1, 15), "NETFLIX.COM"), (2, "similar", date(2025, 12, 30), "Netflx")]
    assert [sorted(s[1] for s in q if s[0] == "Bitmap Heap Scan") for q in slices(plans)] == [
        ["transactions_2025_12"], ["transactions_2025_10", "transactions_2025_11"],
        [f"transactions_2025_{m:02d}" for m in range(6, 10)], [f"transactions_2025_{m:02d}" for m in range(1, 6)],
        ["transactions_2025_12"],
    ]
