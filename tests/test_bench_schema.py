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


def test_the_peer_computes_what_bankdb_computes(db: str) -> None:
    """The fair peer's statements (the pgbench scripts' own text) categorize, convert, total, set
    budgets and keep daily flows exactly as bankdb's triggers do, row by row for the single insert
    and for the bulk import."""
    generate.generate(db, users=20, seed=5, heavy_users=0, batch=20, out=lambda _: None, progress=lambda *_: None)
    today = dt.date.today()
    with psycopg.connect(db, autocommit=True) as conn:
        first_day = today.replace(day=1) - dt.timedelta(days=200)
        bench.add_bench_rows(conn, 4, 400, first_day)
        user_base, account_base, import_user = conn.execute(
            """
            SELECT min(u.id), min(a.id), (SELECT id FROM bank.users WHERE email = 'import@bench.bankdb.test')
            FROM bank.users AS u JOIN bank.accounts AS a ON a.user_id = u.id
            WHERE u.email LIKE 'bench%@bench.bankdb.test'
            """
        ).fetchone()
        # Rules that match the scripts' rows, so categorization is compared too: the bench users'
        # merchant FreshMart, the import user's Market Stall (whose rows come without a category).
        conn.execute(
            "INSERT INTO bank.category_rules (user_id, category, merchant_pattern, priority)"
            " SELECT id, 'Groceries', 'fresh', 5 FROM bank.users WHERE email LIKE 'bench%%@bench.bankdb.test'"
            " UNION ALL SELECT %s, 'Shopping', 'stall', 1 UNION ALL SELECT %s, 'Healthcare', 'market', 9",
            (import_user, import_user))
        conn.execute(
            "INSERT INTO bank.budgets (user_id, year, month, category, limit_amount)"
            " SELECT %s, extract(YEAR FROM m)::smallint, extract(MONTH FROM m)::smallint, c, 100"
            " FROM generate_series(%s::date, %s::date, interval '1 month') AS m"
            " CROSS JOIN (VALUES ('Groceries'), ('Healthcare'), ('Other')) AS k (c)",
            (import_user, first_day.replace(day=1), today))
        bench.load_seed_schema(conn)
        bench.load_peer_schema(conn)

        def same_books(users: tuple[int, int]) -> None:
            assert conn.execute(
                "SELECT user_id, month, category, spending, income, txn_count FROM peer.monthly_totals"
                " WHERE user_id BETWEEN %s AND %s ORDER BY 1, 2, 3", users).fetchall() == conn.execute(
                "SELECT user_id, month, category, spending, income, txn_count FROM bank.monthly_totals"
                " WHERE user_id BETWEEN %s AND %s ORDER BY 1, 2, 3", users).fetchall()
            assert conn.execute(
                "SELECT id, spent_amount FROM seed.budgets WHERE user_id BETWEEN %s AND %s ORDER BY id",
                users).fetchall() == conn.execute(
                "SELECT id, spent_amount FROM bank.budgets WHERE user_id BETWEEN %s AND %s ORDER BY id",
                users).fetchall()
            flows = ("SELECT user_id, account_id, day, currency, credits, debits, txn_count FROM {}.daily_flows"
                     " WHERE user_id BETWEEN %s AND %s ORDER BY 1, 2, 3, 4")
            assert conn.execute(flows.format("peer"), users).fetchall() == conn.execute(
                flows.format("bank"), users).fetchall()

        def new_rows(users: tuple[int, int], after: tuple[int, int]) -> tuple[list, list]:
            columns = "t.account_id, t.category, t.amount, t.currency, t.txn_date::date, t.is_categorized"
            return (
                conn.execute(f"SELECT {columns} FROM seed.transactions AS t JOIN seed.accounts AS a"
                             " ON a.id = t.account_id WHERE a.user_id BETWEEN %s AND %s AND t.id > %s ORDER BY t.id",
                             (*users, after[0])).fetchall(),
                conn.execute(f"SELECT {columns} FROM bank.transactions AS t"
                             " WHERE t.user_id BETWEEN %s AND %s AND t.id > %s ORDER BY t.id", (*users, after[1])).fetchall(),
            )

        def last_ids() -> tuple[int, int]:
            return (conn.execute("SELECT coalesce(max(id), 0) FROM seed.transactions").fetchone()[0],
                    conn.execute("SELECT coalesce(max(id), 0) FROM bank.transactions").fetchone()[0])

        [peer_insert] = bench.script_statements("insert_peer")
        [bankdb_insert] = [s for s in bench.script_statements("insert_bankdb") if s.startswith("INSERT")]
        users = (user_base, user_base + 3)
        same_books(users)
        before = last_ids()
        for n, (k, cat) in enumerate((k, cat) for k in range(4) for cat in range(1, 9)):
            params = {"uid": user_base + k, "aid": account_base + k, "eur": k % 4 == 0, "cents": 101 + 7919 * n % 50000,
                      "cat": cat}
            conn.execute("SET search_path = seed")
            conn.execute(peer_insert, params)
            conn.execute("RESET search_path")
            with conn.transaction():
                conn.execute("SET LOCAL ROLE bank_app")
                conn.execute("SELECT api.set_user(%s)", (params["uid"],))
                conn.execute(bankdb_insert, params)
            same_books(users)  # after every row: its base amount went into both totals alike
        seed_rows, bank_rows = new_rows(users, before)
        assert seed_rows == bank_rows and len(seed_rows) == 32
        assert {r[1] for r in seed_rows} >= {"Groceries", "Shopping"} and all(r[5] for r in seed_rows)
        assert conn.execute("SELECT count(*) FROM bank.transactions WHERE id > %s AND currency = 'EUR'"
                            " AND base_amount <> amount", (before[1],)).fetchone()[0] == 8

        # The bulk import: the peer's one statement against bankdb's INSERT of the same rows.
        [peer_bulk] = bench.script_statements("bulk_peer")
        [bankdb_bulk] = [s for s in bench.script_statements("bulk_bankdb") if s.startswith("INSERT")]
        users = (import_user, import_user)
        same_books(users)
        before = last_ids()
        conn.execute("GRANT USAGE ON SCHEMA bench TO bank_app")  # bench.py's bench_app has it
        conn.execute("GRANT SELECT ON bench.import_rows, bench.import_json TO bank_app")
        conn.execute("SET search_path = seed")
        conn.execute(peer_bulk, {"import_user": import_user})
        conn.execute("RESET search_path")

        def bank_books() -> tuple[list, list, list]:
            """The import user's rows (every stored value, as text), totals and budgets."""
            return (
                sorted(conn.execute(
                    "SELECT account_id, description, category, category_rule_id, is_categorized, amount::text,"
                    " currency, txn_type, merchant, txn_date, posted_date, fx_rate::text, base_amount::text"
                    " FROM bank.transactions WHERE user_id = %s", (import_user,)).fetchall(), key=repr),
                conn.execute("SELECT month, category, spending::text, income::text, txn_count FROM bank.monthly_totals"
                             " WHERE user_id = %s AND txn_count <> 0 ORDER BY 1, 2", (import_user,)).fetchall(),
                conn.execute("SELECT id, spent_amount::text FROM bank.budgets WHERE user_id = %s ORDER BY id",
                             (import_user,)).fetchall(),
            )

        # The import API's statement (bulk_api.pgbench) stores exactly what the direct INSERT stores.
        [api_bulk] = [s for s in bench.script_statements("bulk_api") if s.startswith("SELECT sum")]
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL ROLE bank_app")
            conn.execute("SELECT api.set_user(%s)", (import_user,))
            assert conn.execute(api_bulk, {"import_user": import_user}).fetchone()[0] == 400
            imported = bank_books()
        with conn.transaction():
            conn.execute("SET LOCAL ROLE bank_app")
            conn.execute("SELECT api.set_user(%s)", (import_user,))
            conn.execute(bankdb_bulk, {"import_user": import_user})
        assert bank_books() == imported and len(imported[0]) == 400
        seed_rows, bank_rows = new_rows(users, before)
        assert sorted(seed_rows, key=repr) == sorted(bank_rows, key=repr) and len(seed_rows) == 400
        # The rows without a category took the import user's first rule by priority: Healthcare (9), not Shopping (1).
        assert conn.execute("SELECT category, count(*) FROM seed.transactions WHERE id > %s AND merchant = 'Market Stall'"
                            " GROUP BY 1", (before[0],)).fetchall() == [("Healthcare", 50)]
        same_books(users)
        assert conn.execute("SELECT count(*) FROM seed.budgets WHERE user_id = %s AND spent_amount > 0",
                            (import_user,)).fetchone()[0] >= 3


def bench_sql(name: str) -> list[str]:
    """A pgbench script's SQL statements but BEGIN, api.set_user and COMMIT, :variables as psycopg
    parameters (and its own % doubled); `\\gset` ends a statement as pgbench reads it."""
    return [re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", s.replace("%", "%%")) for s in (
        s.strip() for s in "\n".join(
            line.replace(" \\gset", ";") for line in (bench.HERE / f"{name}.pgbench").read_text().splitlines()
            if not line.startswith(("--", "\\"))).split(";"))
        if s and s not in ("BEGIN", "COMMIT") and not s.startswith("SELECT api.set_user")]


def test_the_search_and_history_baselines_answer_what_bankdb_answers(db: str) -> None:
    """The search and history scenarios compare like with like: the seed's ILIKE finds the rows that
    api.search_transactions ranks first, and the raw window-sum statements return exactly the series
    that api.net_worth_history and api.balance_history compute from the kept rows, for a heavy user
    with all accounts in the base currency and one with an account in another (seed 1's user 2)."""
    generate.generate(db, users=40, seed=1, heavy_users=3, heavy_transactions=3000, batch=40,
                      out=lambda _: None, progress=lambda *_: None)
    today = dt.date.today()
    with psycopg.connect(db, autocommit=True) as conn:
        bench.load_seed_schema(conn)
        lo = conn.execute("SELECT min(id) FROM bank.users WHERE email LIKE %s",
                          (f"%{generate.GENERATED}",)).fetchone()[0]
        users = bench.history_users(conn, lo, lo + 2)
        assert users["fx_user"] == lo + 1 and users["fx_foreign_accounts"] == 1 and users["fx_accounts"] == 4
        assert users["history_user"] != users["fx_user"]

        def as_user(uid: int, statement: str, params: dict) -> list:
            with conn.transaction(force_rollback=True):
                conn.execute("SET LOCAL ROLE bank_app")
                conn.execute("SELECT api.set_user(%s)", (uid,))
                return conn.execute(statement, params).fetchall()

        def as_seed(statement: str, params: dict) -> list:
            conn.execute("SET search_path = seed")
            try:
                return conn.execute(statement, params).fetchall()
            finally:
                conn.execute("RESET search_path")

        # Search: the seed's newest 20 matches are bankdb's substring matches, in the same order.
        found = 0
        for name in ("search", "search_range"):
            [seed_search] = bench_sql(f"{name}_seed")
            [bankdb_search] = bench_sql(f"{name}_bankdb")
            ranked = bankdb_search.replace("SELECT id,", "SELECT match, id,")
            for uid in range(lo, lo + 3):
                for w in range(1, 5):
                    first = (today.year * 12 + today.month - 1) - 23 + 5 * w  # a quarter within the months
                    params = {"uid": uid, "w": w, "year": first // 12, "month": first % 12 + 1}
                    seed_rows = as_seed(seed_search, params)
                    mine = as_user(uid, ranked, params)
                    substring = [r[1:] for r in mine if r[0] == "substring"]
                    assert [r[0] for r in seed_rows] == [r[0] for r in substring], (name, uid, w)
                    assert [(r[1], *r[2:]) for r in seed_rows] == [(dt.datetime.combine(r[1], dt.time()), *r[2:])
                                                                  for r in substring]
                    found += len(seed_rows)
        assert found >= 200  # the words are found, mostly 20 times (a quarter of 3,000 rows has 12 of StreamFlix)

        # History: the raw statements return exactly the kept rows' series.
        for kind in ("net_worth", "balance_history"):
            [kept] = bench_sql(f"{kind}_bankdb")
            [raw] = bench_sql(f"{kind}_raw")
            for uid in (users["history_user"], users["fx_user"]):
                aid = conn.execute(
                    "SELECT account_id FROM bank.transactions WHERE user_id = %s GROUP BY 1 ORDER BY count(*) DESC,"
                    " 1 LIMIT 1", (uid,)).fetchone()[0]
                params = {"uid": uid, "aid": users["history_account"] if uid == users["history_user"] else aid}
                series = as_user(uid, kept, params)
                assert len(series) == 365 and series == as_user(uid, raw, params), (kind, uid)
                assert len({r[2:5] for r in series}) > 100  # the balances move over the year
        # The foreign account enters the fx user's net worth at each day's rate: the same balance of the
        # EUR account (it has no transactions) is worth a different amount in USD from day to day.
        eur = conn.execute("SELECT id FROM bank.accounts WHERE user_id = %s AND currency = 'EUR'",
                           (users["fx_user"],)).fetchone()[0]
        [kept] = bench_sql("balance_history_bankdb")
        rows = as_user(users["fx_user"], kept, {"uid": users["fx_user"], "aid": eur})
        assert len({r[6] for r in rows}) == 1 and len({r[10] for r in rows}) > 100


def test_the_split_scenario_counts_the_payment_by_its_three_lines(db: str) -> None:
    """The split row's scripts (insert_split_*.pgbench) write what they say: the unsplit payment counts
    in Groceries, the split one in its three lines' categories (half, a quarter, the rest), summed at
    COMMIT, and the totals stay exact."""
    generate.generate(db, users=20, seed=5, heavy_users=0, batch=20, out=lambda _: None, progress=lambda *_: None)
    today = dt.date.today()
    with psycopg.connect(db, autocommit=True) as conn:
        bench.add_bench_rows(conn, 4, 10, today.replace(day=1) - dt.timedelta(days=40))
        uid, aid = conn.execute(
            "SELECT u.id, a.id FROM bank.users AS u JOIN bank.accounts AS a ON a.user_id = u.id"
            " WHERE u.email LIKE 'bench%%@bench.bankdb.test' ORDER BY u.id LIMIT 1 OFFSET 1").fetchone()
        cents = 1001
        params = {"uid": uid, "aid": aid, "eur": False, "cents": cents,
                  "c1": cents // 2, "c2": cents // 4, "c3": cents - cents // 2 - cents // 4}

        def totals() -> dict:
            return dict(conn.execute(
                "SELECT category, spending FROM bank.monthly_totals WHERE user_id = %s AND month = %s",
                (uid, today.replace(day=1))).fetchall())

        def written(name: str) -> dict:
            before = totals()
            with conn.transaction():
                conn.execute("SET LOCAL ROLE bank_app")
                conn.execute("SELECT api.set_user(%s)", (uid,))
                payment, *lines = bench_sql(name)
                tid, tdate = conn.execute(payment, params).fetchone()
                for statement in lines:
                    conn.execute(statement, {**params, "tid": tid, "tdate": tdate})
            after = totals()
            return {c: after[c] - before.get(c, 0) for c in after if after[c] != before.get(c, 0)}

        assert written("insert_split_unsplit") == {"Groceries": Decimal("10.01")}
        assert written("insert_split_bankdb") == {
            "Groceries": Decimal("5.00"), "Shopping": Decimal("2.50"), "Healthcare": Decimal("2.51")}
        assert conn.execute("SELECT count(*) FROM bank.verify_totals()").fetchone()[0] == 0
