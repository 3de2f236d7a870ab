"""Monthly totals and budgets.spent_amount stay equal, to the cent, to what the raw rows say (split transactions
by their lines, shared as the rule says)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import add_txn, in_parallel, insert, make_account, make_user, value

CATEGORIES = [None, "Groceries", "Shopping", "Salary"]
SPLIT_CATEGORIES = ["Groceries", "Shopping", "Other", "Utilities"]
KINDS = ["regular", "regular", "card_payment", "loan_payment"]
MINOR_UNITS = {"USD": 2, "EUR": 2, "JPY": 0, "GBP": 2}
# Rates as stored (1 base = rate quote). JPY converts by the inverse of USD/JPY, GBP to EUR through USD.
RATES = [
    ("EUR", "USD", "2025-01-01", "1.1"),
    ("EUR", "USD", "2025-06-01", "1.25"),
    ("USD", "JPY", "2025-01-01", "151.37"),
    ("GBP", "USD", "2025-01-01", "1.3333"),
]


def expected_rate(source: str, target: str, on: str) -> Decimal:
    """The reference for bank.exchange_rate: pair, inverse (16 places), or through USD."""
    def pair(a: str, b: str) -> Decimal | None:
        direct = [(d, Decimal(r)) for x, y, d, r in RATES if (x, y) == (a, b) and d <= on]
        if direct:
            return max(direct)[1]
        inverse = [(d, Decimal(r)) for x, y, d, r in RATES if (x, y) == (b, a) and d <= on]
        if inverse:
            return (1 / max(inverse)[1]).quantize(Decimal("1e-16"), ROUND_HALF_UP)
        return None

    if source == target:
        return Decimal(1)
    return pair(source, target) or (pair(source, "USD") * pair("USD", target)).quantize(
        Decimal("1e-16"), ROUND_HALF_UP
    )


def split_shares(base: Decimal, lines: list[tuple[int, str, Decimal]], minor_unit: int) -> dict[str, Decimal]:
    """The reference for the lines' base amounts, summed by category: base shared by the lines' amounts,
    rounded half away from zero, the remainder to the largest line (lowest line number on ties)."""
    if not lines:
        return {}
    total = sum(amount for _, _, amount in lines)
    shares = {no: (base * amount / total).quantize(Decimal(1).scaleb(-minor_unit), ROUND_HALF_UP)
              for no, _, amount in lines}
    largest = min(lines, key=lambda line: (-line[2], line[0]))[0]
    shares[largest] += base - sum(shares.values())
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for no, category, _ in lines:
        by_category[category] += shares[no]
    return dict(by_category)


def reference(conn: psycopg.Connection) -> tuple[dict, dict]:
    """Monthly totals and budget spending computed in Python from the raw transactions."""
    base = dict(conn.execute("SELECT id, base_currency FROM bank.users").fetchall())
    totals: dict = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    rows = conn.execute(
        "SELECT user_id, txn_date, id, category, kind, txn_type, amount, currency FROM bank.transactions"
    ).fetchall()
    split_lines = defaultdict(list)
    for user_id, txn_date, txn_id, line_no, category, amount in conn.execute(
        "SELECT user_id, txn_date, transaction_id, line_no, category, amount FROM bank.transaction_splits"
    ).fetchall():
        split_lines[(user_id, txn_date, txn_id)].append((line_no, category, amount))
    for user_id, txn_date, txn_id, category, kind, txn_type, amount, currency in rows:
        if kind != "regular":
            continue
        target = base[user_id]
        rate = expected_rate(currency, target, txn_date.isoformat())
        converted = (amount * rate).quantize(Decimal(1).scaleb(-MINOR_UNITS[target]), ROUND_HALF_UP)
        counted = split_shares(converted, split_lines[(user_id, txn_date, txn_id)], MINOR_UNITS[target]) or {
            category or "Other": converted
        }
        for counted_category, counted_amount in counted.items():
            key = (user_id, txn_date.replace(day=1), counted_category)
            totals[key][0 if txn_type == "debit" else 1] += counted_amount
            totals[key][2] += 1
    budgets = {
        budget_id: totals[(user_id, month, category)][0] if (user_id, month, category) in totals else Decimal(0)
        for budget_id, user_id, month, category in conn.execute(
            "SELECT id, user_id, make_date(year, month, 1), category FROM bank.budgets"
        ).fetchall()
    }
    return {k: tuple(v) for k, v in totals.items() if v != [0, 0, 0]}, budgets


def kept(conn: psycopg.Connection) -> tuple[dict, dict]:
    totals = {
        (u, m, c): (s, i, n)
        for u, m, c, s, i, n in conn.execute(
            "SELECT user_id, month, category, spending, income, txn_count FROM bank.monthly_totals"
        ).fetchall()
        if (s, i, n) != (0, 0, 0)
    }
    budgets = dict(conn.execute("SELECT id, spent_amount FROM bank.budgets").fetchall())
    return totals, budgets


def money(currency: str):
    return st.integers(1, 500_000).map(lambda units: str(Decimal(units).scaleb(-MINOR_UNITS[currency])))


dates = st.builds("2025-{:02d}-{:02d}".format, st.integers(1, 12), st.integers(1, 28))
operation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 4), st.integers(1, 500_000), st.sampled_from(["debit", "credit"]),
              st.sampled_from(KINDS), st.sampled_from(CATEGORIES), dates),
    st.tuples(st.just("insert_many"), st.integers(0, 4), st.integers(1, 6), dates),
    st.tuples(st.just("amount"), st.integers(0, 99), st.integers(1, 500_000)),
    st.tuples(st.just("direction"), st.integers(0, 99)),
    st.tuples(st.just("kind"), st.integers(0, 99), st.sampled_from(KINDS)),
    st.tuples(st.just("category"), st.integers(0, 99), st.sampled_from(CATEGORIES)),
    st.tuples(st.just("date"), st.integers(0, 99), dates),
    st.tuples(st.just("account"), st.integers(0, 99), st.integers(0, 4)),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("bulk_update"), st.integers(0, 1), st.integers(1, 12)),
    st.tuples(st.just("budget"), st.integers(0, 1), st.integers(1, 12), st.sampled_from(CATEGORIES[1:])),
    # Splits: lines replaced (k lines summing to the amount), one line's amount or category changed
    # (the sum is checked at COMMIT only, which these rolled-back examples never reach), lines removed.
    st.tuples(st.just("split"), st.integers(0, 99), st.lists(st.sampled_from(SPLIT_CATEGORIES), min_size=1, max_size=4),
              st.integers(0, 1000)),
    st.tuples(st.just("split_amount"), st.integers(0, 99), st.integers(1, 500_000)),
    st.tuples(st.just("split_category"), st.integers(0, 99), st.sampled_from(SPLIT_CATEGORIES)),
    st.tuples(st.just("unsplit_line"), st.integers(0, 99)),
    st.tuples(st.just("unsplit"), st.integers(0, 99)),
)


@pytest.fixture
def two_users(conn: psycopg.Connection) -> list[dict]:
    """User A (base USD) with USD, EUR and JPY accounts; user B (base EUR) with EUR and GBP accounts."""
    for base, quote, day, rate in RATES:
        insert(conn, "exchange_rates", base_currency=base, quote_currency=quote, rate_date=day, rate=rate)
    # A multi-row insert late in December runs a few days into the next year.
    conn.execute("SELECT bank.create_transaction_partitions('2026-01-01', '2026-01-31')")
    a = make_user(conn, "a@example.com", "USD")
    b = make_user(conn, "b@example.com", "EUR")
    return [
        make_account(conn, a["id"], "USD"), make_account(conn, a["id"], "EUR"), make_account(conn, a["id"], "JPY"),
        make_account(conn, b["id"], "EUR"), make_account(conn, b["id"], "GBP"),
    ]


def units(amount: int, currency: str) -> str:
    return str(Decimal(amount).scaleb(-MINOR_UNITS[currency]))


def apply(conn: psycopg.Connection, accounts: list[dict], op: tuple) -> None:
    ids = [r[0] for r in conn.execute("SELECT id FROM bank.transactions ORDER BY id").fetchall()]
    pick = (lambda i: ids[i % len(ids)]) if ids else None
    name = op[0]
    if name == "insert":
        _, a, amount, txn_type, kind, category, day = op
        account = accounts[a]
        add_txn(conn, account, units(amount, account["currency"]), txn_type, day, kind=kind, category=category)
    elif name == "insert_many":  # one statement, several rows, several categories
        _, a, n, day = op
        account = accounts[a]
        conn.execute(
            """
            INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type, txn_date)
            SELECT %s, %s, 'Bulk', (ARRAY['Groceries', 'Shopping', NULL])[1 + g %% 3], g * 7 + 1, %s,
                   (ARRAY['debit', 'credit'])[1 + g %% 2]::bank.txn_type, %s::date + g
            FROM generate_series(1, %s) AS g
            """,
            (account["user_id"], account["id"], account["currency"], day, n),
        )
    elif not ids:
        return
    elif name == "amount":
        conn.execute(
            """UPDATE bank.transactions AS t SET amount = round(%s::numeric / 100, c.minor_unit) + 1
               FROM bank.currencies AS c WHERE c.code = t.currency AND t.id = %s""",
            (op[2], pick(op[1])),
        )
    elif name == "direction":
        conn.execute(
            "UPDATE bank.transactions SET txn_type = CASE txn_type WHEN 'debit' THEN 'credit' ELSE 'debit' END::bank.txn_type"
            " WHERE id = %s",
            (pick(op[1]),),
        )
    elif name == "kind":
        conn.execute("UPDATE bank.transactions SET kind = %s WHERE id = %s", (op[2], pick(op[1])))
    elif name == "category":
        conn.execute("UPDATE bank.transactions SET category = %s WHERE id = %s", (op[2], pick(op[1])))
    elif name == "date":  # may move the row to another month's partition
        conn.execute("UPDATE bank.transactions SET txn_date = %s WHERE id = %s", (op[2], pick(op[1])))
    elif name == "account":  # another account of the same user (currency stays the transaction's own)
        txn = pick(op[1])
        owner = value(conn, "SELECT user_id FROM bank.transactions WHERE id = %s", (txn,))
        mine = [a for a in accounts if a["user_id"] == owner]
        conn.execute("UPDATE bank.transactions SET account_id = %s WHERE id = %s", (mine[op[2] % len(mine)]["id"], txn))
    elif name == "delete":
        conn.execute("DELETE FROM bank.transactions WHERE id = %s", (pick(op[1]),))
    elif name == "bulk_update":  # one statement over many rows and months
        owner = accounts[0 if op[1] == 0 else 3]["user_id"]
        conn.execute(
            "UPDATE bank.transactions SET txn_date = txn_date + 20, category = NULL WHERE user_id = %s"
            " AND extract(MONTH FROM txn_date) <= %s AND txn_date < '2025-12-01'",
            (owner, op[2]),
        )
    elif name == "split":  # replace a regular transaction's lines with k lines that sum to its amount
        _, i, categories, seed = op
        regular = [r[0] for r in conn.execute(
            "SELECT id FROM bank.transactions WHERE kind = 'regular' ORDER BY id").fetchall()]
        if not regular:
            return
        user_id, txn_date, txn_id, amount, minor = conn.execute(
            "SELECT t.user_id, t.txn_date, t.id, t.amount, c.minor_unit FROM bank.transactions AS t"
            " JOIN bank.currencies AS c ON c.code = t.currency WHERE t.id = %s", (regular[i % len(regular)],)
        ).fetchone()
        cents = int(amount.scaleb(minor))
        if cents < len(categories):
            categories = categories[:cents]
        cuts = sorted({1 + (seed * (k + 7)) % max(cents - 1, 1) for k in range(len(categories) - 1)})
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents]) if b > a]
        conn.execute("DELETE FROM bank.transaction_splits WHERE user_id = %s AND txn_date = %s AND transaction_id = %s",
                     (user_id, txn_date, txn_id))
        conn.execute(
            "INSERT INTO bank.transaction_splits (user_id, txn_date, transaction_id, line_no, category, amount)"
            " SELECT %s, %s, %s, n, c, a FROM unnest(%s::text[], %s::numeric[]) WITH ORDINALITY AS x (c, a, n)",
            (user_id, txn_date, txn_id, categories[:len(parts)], [Decimal(p).scaleb(-minor) for p in parts]),
        )
    elif name in ("split_amount", "split_category", "unsplit_line"):
        split = conn.execute(
            "SELECT l.user_id, l.txn_date, l.transaction_id, l.line_no, c.minor_unit FROM bank.transaction_splits AS l"
            " JOIN bank.transactions AS t ON (t.user_id, t.txn_date, t.id) = (l.user_id, l.txn_date, l.transaction_id)"
            " JOIN bank.currencies AS c ON c.code = t.currency ORDER BY 1, 2, 3, 4"
        ).fetchall()
        if not split:
            return
        *key, minor = split[op[1] % len(split)]
        if name == "split_amount":
            conn.execute("UPDATE bank.transaction_splits SET amount = %s WHERE user_id = %s AND txn_date = %s"
                         " AND transaction_id = %s AND line_no = %s", (Decimal(op[2]).scaleb(-minor), *key))
        elif name == "split_category":
            conn.execute("UPDATE bank.transaction_splits SET category = %s WHERE user_id = %s AND txn_date = %s"
                         " AND transaction_id = %s AND line_no = %s", (op[2], *key))
        else:
            conn.execute("DELETE FROM bank.transaction_splits WHERE user_id = %s AND txn_date = %s"
                         " AND transaction_id = %s AND line_no = %s", key)
    elif name == "unsplit":  # every line of one transaction, or of one user (one statement, many transactions)
        if op[1] % 5 == 0:
            conn.execute("DELETE FROM bank.transaction_splits WHERE user_id = %s", (accounts[0]["user_id"],))
        else:
            conn.execute("DELETE FROM bank.transaction_splits WHERE transaction_id = %s", (pick(op[1]),))
    elif name == "budget":
        owner = accounts[0 if op[1] == 0 else 3]["user_id"]
        conn.execute(
            "INSERT INTO bank.budgets (user_id, year, month, category, limit_amount) VALUES (%s, 2025, %s, %s, 100)"
            " ON CONFLICT DO NOTHING",
            (owner, op[2], op[3]),
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_totals_and_budgets_equal_a_reference_from_the_raw_rows(
    conn: psycopg.Connection, two_users: list[dict], ops: list[tuple]
) -> None:
    with conn.transaction(force_rollback=True):
        for op in ops:
            apply(conn, two_users, op)
        rows = conn.execute("SELECT amount, currency, txn_date, fx_rate, base_amount, user_id FROM bank.transactions")
        base = dict(conn.execute("SELECT id, base_currency FROM bank.users").fetchall())
        for amount, currency, txn_date, fx_rate, base_amount, user_id in rows.fetchall():
            assert fx_rate == expected_rate(currency, base[user_id], txn_date.isoformat())
        assert kept(conn) == reference(conn)
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_a_budget_created_after_its_transactions_starts_with_their_spending(
    conn: psycopg.Connection, two_users: list[dict]
) -> None:
    usd = two_users[0]
    add_txn(conn, usd, "12.34", category="Groceries")
    add_txn(conn, usd, "0.66", category="Groceries")
    add_txn(conn, usd, "5.00", "credit", category="Groceries")  # a refund is income, not negative spending
    budget = insert(conn, "budgets", user_id=usd["user_id"], year=2025, month=3, category="Groceries", limit_amount="50")
    assert budget["spent_amount"] == Decimal("13.00")


def test_an_insert_sets_its_budgets_spent_amount_and_updated_at(
    conn: psycopg.Connection, two_users: list[dict]
) -> None:
    """The totals trigger writes updated_at with spent_amount (the budgets' row trigger is skipped for
    that UPDATE); any other UPDATE of a budget still gets its updated_at from the row trigger."""
    usd = two_users[0]
    budget = insert(conn, "budgets", user_id=usd["user_id"], year=2025, month=3, category="Groceries", limit_amount="50")
    conn.execute("UPDATE bank.budgets SET updated_at = '2020-01-01' WHERE id = %s", (budget["id"],))
    add_txn(conn, usd, "10.00", category="Groceries")
    assert conn.execute("SELECT spent_amount, updated_at = now() FROM bank.budgets WHERE id = %s",
                        (budget["id"],)).fetchone() == (Decimal("10.00"), True)
    conn.execute("UPDATE bank.budgets SET updated_at = '2020-01-01' WHERE id = %s", (budget["id"],))
    conn.execute("UPDATE bank.budgets SET limit_amount = 60 WHERE id = %s", (budget["id"],))
    assert value(conn, "SELECT updated_at = now() FROM bank.budgets WHERE id = %s", (budget["id"],)) is True


def test_transfers_and_payments_never_count(conn: psycopg.Connection, two_users: list[dict]) -> None:
    usd = two_users[0]
    add_txn(conn, usd, "40.00", category="Shopping", kind="card_payment")
    add_txn(conn, usd, "60.00", category="Shopping", kind="loan_payment")
    assert value(conn, "SELECT count(*) FROM bank.monthly_totals WHERE txn_count <> 0") == 0


def test_a_missing_rate_is_an_error_not_a_silent_one(conn: psycopg.Connection, two_users: list[dict]) -> None:
    gbp_for_a = make_account(conn, two_users[0]["user_id"], "CHF")
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        add_txn(conn, gbp_for_a, "10.00")
    assert failure.value.sqlstate == "BKFX1"
    assert failure.value.diag.message_primary == (
        "no exchange rate from CHF to USD on or before 2025-03-05 (direct, inverse, or through USD)"
    )


def test_verify_reports_drift_and_rebuild_repairs_it(conn: psycopg.Connection, two_users: list[dict]) -> None:
    usd = two_users[0]
    add_txn(conn, usd, "10.00", category="Groceries")
    insert(conn, "budgets", user_id=usd["user_id"], year=2025, month=3, category="Groceries", limit_amount="50")
    # March only: the budget's triggers also made February's row (empty), which stays right.
    conn.execute("UPDATE bank.monthly_totals SET spending = spending + 1, txn_count = 7 WHERE month = '2025-03-01'")
    conn.execute("UPDATE bank.budgets SET spent_amount = 3")
    drift = conn.execute("SELECT subject, detail, expected, actual FROM bank.verify_totals()").fetchall()
    assert drift == [
        ("budgets.spent_amount", drift[0][1], Decimal("11.00"), Decimal(3)),
        ("monthly_totals.spending", "2025-03 Groceries", Decimal("10.00"), Decimal("11.00")),
        ("monthly_totals.txn_count", "2025-03 Groceries", 1, 7),
    ]
    assert value(conn, "SELECT bank.rebuild_totals(%s)", (usd["user_id"],)) == 1
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert value(conn, "SELECT spent_amount FROM bank.budgets") == Decimal("10.00")


def test_a_hundred_thousand_row_insert_leaves_totals_exact(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "bulk@example.com")
        account = make_account(conn, user["id"])
        insert(conn, "budgets", user_id=user["id"], year=2025, month=5, category="Groceries", limit_amount="1000")
        conn.execute(
            """
            INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type, txn_date)
            SELECT %s, %s, 'Bulk', (ARRAY['Groceries', 'Shopping', 'Salary', NULL])[1 + g %% 4],
                   (g %% 9973) / 100.0 + 0.01, 'USD', (ARRAY['debit', 'debit', 'credit'])[1 + g %% 3]::bank.txn_type,
                   DATE '2025-01-01' + (g %% 365)
            FROM generate_series(1, 100000) AS g
            """,
            (user["id"], account["id"]),
        )
        assert value(conn, "SELECT sum(txn_count) FROM bank.monthly_totals") == 100_000
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        assert value(conn, "SELECT spent_amount FROM bank.budgets") == value(
            conn,
            "SELECT sum(amount) FROM bank.transactions WHERE category = 'Groceries' AND txn_type = 'debit'"
            " AND txn_date >= '2025-05-01' AND txn_date < '2025-06-01'",
        )


def test_eight_concurrent_writers_on_one_user_category_and_month_stay_exact(db: str) -> None:
    """Each write is its own transaction, as an application's usually is (see docs/stored-logic.md: Concurrency)."""
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "busy@example.com")
        account = make_account(conn, user["id"])
        insert(conn, "budgets", user_id=user["id"], year=2025, month=4, category="Groceries", limit_amount="100")
    start = threading.Barrier(8)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        with psycopg.connect(db, autocommit=True) as mine:
            start.wait()
            for _ in range(40):
                action = rng.choice(["insert", "insert", "update", "delete", "move"])
                if action == "insert":
                    add_txn(mine, account, f"{rng.randint(1, 9999) / 100:.2f}", txn_date="2025-04-10",
                            category="Groceries")
                elif action == "update":
                    mine.execute(
                        "UPDATE bank.transactions SET amount = amount + 0.01 WHERE id = (SELECT id FROM "
                        "bank.transactions WHERE user_id = %s ORDER BY random() LIMIT 1)", (user["id"],)
                    )
                elif action == "delete":
                    mine.execute(
                        "DELETE FROM bank.transactions WHERE id = (SELECT id FROM bank.transactions WHERE "
                        "user_id = %s ORDER BY random() LIMIT 1)", (user["id"],)
                    )
                else:  # several rows in one statement
                    mine.execute(
                        "INSERT INTO bank.transactions (user_id, account_id, description, category, amount,"
                        " currency, txn_type, txn_date) SELECT %s, %s, 'Batch', 'Groceries', g / 100.0, 'USD',"
                        " 'debit', '2025-04-11' FROM generate_series(1, 5) AS g", (user["id"], account["id"])
                    )
                    mine.execute(
                        "UPDATE bank.transactions SET amount = amount + 1 WHERE id IN (SELECT id FROM "
                        "bank.transactions WHERE user_id = %s ORDER BY random() LIMIT 3)", (user["id"],)
                    )

    assert in_parallel(writer, range(8)) == []
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        spent = value(conn, "SELECT spent_amount FROM bank.budgets")
        raw = value(conn, "SELECT coalesce(sum(amount), 0) FROM bank.transactions")
        assert spent == raw and spent > 0
