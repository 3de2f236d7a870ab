"""Split transactions: lines that sum to their transaction at COMMIT, counted in the totals by their
categories with base amounts that sum exactly to the transaction's, following their transaction
(deleted with it, moved with its date), refusing bad input by a named rule with nothing changed,
and exact under concurrent writers."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from ..helpers import add_txn, in_parallel, insert, make_account, make_user, value
from ..security.conftest import acting


def line(conn: psycopg.Connection, txn: dict, line_no: int, category: str, amount: str, **extra) -> dict:
    return insert(conn, "transaction_splits", user_id=txn["user_id"], txn_date=txn["txn_date"],
                  transaction_id=txn["id"], line_no=line_no, category=category, amount=amount, **extra)


def lines(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT transaction_id, txn_date, line_no, category, amount, base_amount FROM bank.transaction_splits"
        " ORDER BY 1, 2, 3"
    ).fetchall()


def totals(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT month, category, spending, income, txn_count FROM bank.monthly_totals"
        " WHERE (spending, income, txn_count) <> (0, 0, 0) ORDER BY 1, 2"
    ).fetchall()


MARCH = date(2025, 3, 1)


# -- splitting as an application does it, and what every view then says --------------------------------


def test_an_application_splits_a_transaction_and_the_totals_count_its_lines(
    conn: psycopg.Connection, user: dict
) -> None:
    receipt = add_txn(conn, user["checking"], "42.50", category="Groceries", merchant="Supermarket")
    budget = insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Groceries", limit_amount="100")
    assert totals(conn) == [(MARCH, "Groceries", Decimal("42.50"), 0, 1)]
    merchants_before = conn.execute("SELECT merchant, spending, txn_count FROM api.top_merchants").fetchall()
    with acting(conn, "bank_app", user["id"]):
        conn.execute(
            "INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount, note)"
            " VALUES (%(d)s, %(t)s, 1, 'Groceries', 30.00, 'food'), (%(d)s, %(t)s, 2, 'Shopping', 10.00, 'socks'),"
            " (%(d)s, %(t)s, 3, 'Healthcare', 2.50, NULL)",
            {"d": receipt["txn_date"], "t": receipt["id"]},
        )
        assert totals(conn) == [
            (MARCH, "Groceries", Decimal("30.00"), 0, 1),
            (MARCH, "Healthcare", Decimal("2.50"), 0, 1),
            (MARCH, "Shopping", Decimal("10.00"), 0, 1),
        ]
        assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE id = %s", (budget["id"],)) == Decimal("30.00")
        assert value(conn, "SELECT spent_amount FROM api.budget_status WHERE category = 'Groceries'") == Decimal("30.00")
        assert conn.execute(
            "SELECT category, spending, txn_count FROM api.monthly_spending ORDER BY category"
        ).fetchall() == [("Groceries", Decimal("30.00"), 1), ("Healthcare", Decimal("2.50"), 1),
                         ("Shopping", Decimal("10.00"), 1)]
        assert conn.execute("SELECT income, spending, net FROM api.cash_flow").fetchall() == [
            (0, Decimal("42.50"), Decimal("-42.50"))
        ]
        # A merchant's spending is the transaction's, however it is split.
        assert conn.execute("SELECT merchant, spending, txn_count FROM api.top_merchants").fetchall() == merchants_before
        assert conn.execute("SELECT id, is_split FROM api.recent_transactions").fetchall() == [(receipt["id"], True)]
        assert conn.execute(
            "SELECT transaction_id, line_no, category, amount, currency, base_amount, base_currency, note,"
            " transaction_amount FROM api.transaction_splits ORDER BY line_no"
        ).fetchall() == [
            (receipt["id"], 1, "Groceries", Decimal("30.00"), "USD", Decimal("30.00"), "USD", "food", Decimal("42.50")),
            (receipt["id"], 2, "Shopping", Decimal("10.00"), "USD", Decimal("10.00"), "USD", "socks", Decimal("42.50")),
            (receipt["id"], 3, "Healthcare", Decimal("2.50"), "USD", Decimal("2.50"), "USD", None, Decimal("42.50")),
        ]
        # Moving line 3's 2.50 to line 1: the sum is checked at COMMIT, not in between.
        conn.execute("UPDATE bank.transaction_splits SET amount = 32.50, note = 'food and soap' WHERE line_no = 1")
        conn.execute("DELETE FROM bank.transaction_splits WHERE line_no = 3")
        assert totals(conn) == [
            (MARCH, "Groceries", Decimal("32.50"), 0, 1), (MARCH, "Shopping", Decimal("10.00"), 0, 1)
        ]
        # The bank's row is untouched.
        assert conn.execute("SELECT amount, category, base_amount FROM bank.transactions").fetchone() == (
            Decimal("42.50"), "Groceries", Decimal("42.50")
        )
        # Removing every line counts the transaction by its own category again.
        conn.execute("DELETE FROM bank.transaction_splits")
        assert totals(conn) == [(MARCH, "Groceries", Decimal("42.50"), 0, 1)]
        assert value(conn, "SELECT spent_amount FROM bank.budgets") == Decimal("42.50")
        assert conn.execute("SELECT is_split FROM api.recent_transactions").fetchall() == [(False,)]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_two_lines_in_one_category_count_the_transaction_once_there(conn: psycopg.Connection, user: dict) -> None:
    receipt = add_txn(conn, user["checking"], "20.00", "credit", category="Salary")
    line(conn, receipt, 1, "Salary", "15.00")
    line(conn, receipt, 2, "Salary", "4.00")
    line(conn, receipt, 3, "Other", "1.00")
    assert totals(conn) == [(MARCH, "Other", 0, Decimal("1.00"), 1), (MARCH, "Salary", 0, Decimal("19.00"), 1)]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


# -- the base amounts: shares of the transaction's, the remainder to the largest line ------------------


@pytest.fixture
def eur(conn: psycopg.Connection, user: dict) -> dict:
    insert(conn, "exchange_rates", base_currency="EUR", quote_currency="USD", rate_date="2025-01-01", rate="1.1")
    return make_account(conn, user["id"], "EUR", masked_account="****3333")


def test_the_lines_base_amounts_sum_exactly_to_the_transactions(conn: psycopg.Connection, eur: dict) -> None:
    receipt = add_txn(conn, eur, "10.00", category="Groceries")
    assert receipt["base_amount"] == Decimal("11.00")
    conn.execute(
        "INSERT INTO bank.transaction_splits (user_id, txn_date, transaction_id, line_no, category, amount)"
        " VALUES (%(u)s, %(d)s, %(t)s, 1, 'Groceries', 3.33), (%(u)s, %(d)s, %(t)s, 2, 'Shopping', 3.33),"
        " (%(u)s, %(d)s, %(t)s, 3, 'Healthcare', 3.34)",
        {"u": receipt["user_id"], "d": receipt["txn_date"], "t": receipt["id"]},
    )
    # 3.663, 3.663 and 3.674 round to 3.66, 3.66, 3.67 (10.99): the cent left goes to the largest line.
    assert [r[5] for r in lines(conn)] == [Decimal("3.66"), Decimal("3.66"), Decimal("3.68")]
    assert totals(conn) == [
        (MARCH, "Groceries", Decimal("3.66"), 0, 1), (MARCH, "Healthcare", Decimal("3.68"), 0, 1),
        (MARCH, "Shopping", Decimal("3.66"), 0, 1),
    ]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_a_remainder_among_equal_lines_goes_to_the_lowest_line_number(conn: psycopg.Connection, eur: dict) -> None:
    receipt = add_txn(conn, eur, "0.20", category="Groceries")
    assert receipt["base_amount"] == Decimal("0.22")
    for n in (1, 2, 3, 4):
        line(conn, receipt, n, "Groceries" if n < 3 else "Shopping", "0.05")
    # 0.055 rounds half away from zero to 0.06 four times (0.24): line 1 gives back 0.02.
    assert [r[5] for r in lines(conn)] == [Decimal("0.04"), Decimal("0.06"), Decimal("0.06"), Decimal("0.06")]
    assert totals(conn) == [(MARCH, "Groceries", Decimal("0.10"), 0, 1), (MARCH, "Shopping", Decimal("0.12"), 0, 1)]


def test_a_new_amount_or_rate_shares_the_new_base_amount_over_the_lines(conn: psycopg.Connection, eur: dict) -> None:
    insert(conn, "exchange_rates", base_currency="EUR", quote_currency="USD", rate_date="2025-04-01", rate="1.2")
    receipt = add_txn(conn, eur, "10.00", category="Groceries")
    line(conn, receipt, 1, "Groceries", "7.00")
    line(conn, receipt, 2, "Shopping", "3.00")
    # Parent and lines in one statement each, one transaction: 10.00 -> 20.00 EUR in April (rate 1.2).
    conn.execute("UPDATE bank.transactions SET amount = 20.00, txn_date = '2025-04-02' WHERE id = %s", (receipt["id"],))
    conn.execute("UPDATE bank.transaction_splits SET amount = amount * 2")
    assert lines(conn) == [
        (receipt["id"], date(2025, 4, 2), 1, "Groceries", Decimal("14.00"), Decimal("16.80")),
        (receipt["id"], date(2025, 4, 2), 2, "Shopping", Decimal("6.00"), Decimal("7.20")),
    ]
    assert totals(conn) == [
        (date(2025, 4, 1), "Groceries", Decimal("16.80"), 0, 1), (date(2025, 4, 1), "Shopping", Decimal("7.20"), 0, 1)
    ]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


# -- lines follow their transaction ----------------------------------------------------------------------


def test_lines_move_with_their_transaction_and_go_when_it_goes(conn: psycopg.Connection, user: dict) -> None:
    receipt = add_txn(conn, user["checking"], "50.00", category="Groceries")
    other = add_txn(conn, user["checking"], "5.00", category="Groceries")
    line(conn, receipt, 1, "Groceries", "20.00")
    line(conn, receipt, 2, "Entertainment", "30.00")
    # Within the month, then into another month's partition.
    for day in ("2025-03-20", "2025-05-02"):
        conn.execute("UPDATE bank.transactions SET txn_date = %s WHERE id = %s", (day, receipt["id"]))
        assert {r[1] for r in lines(conn)} == {date.fromisoformat(day)}
    assert totals(conn) == [
        (MARCH, "Groceries", Decimal("5.00"), 0, 1),
        (date(2025, 5, 1), "Entertainment", Decimal("30.00"), 0, 1),
        (date(2025, 5, 1), "Groceries", Decimal("20.00"), 0, 1),
    ]
    # A category change of the bank's row changes nothing while it is split.
    conn.execute("UPDATE bank.transactions SET category = 'Shopping' WHERE id = %s", (receipt["id"],))
    assert totals(conn)[1:] == [
        (date(2025, 5, 1), "Entertainment", Decimal("30.00"), 0, 1),
        (date(2025, 5, 1), "Groceries", Decimal("20.00"), 0, 1),
    ]
    conn.execute("DELETE FROM bank.transactions WHERE id = %s", (receipt["id"],))
    assert lines(conn) == []
    assert totals(conn) == [(MARCH, "Groceries", Decimal("5.00"), 0, 1)]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert other["id"]


def test_deleting_the_user_takes_the_lines(conn: psycopg.Connection, user: dict) -> None:
    receipt = add_txn(conn, user["checking"], "50.00", category="Groceries")
    line(conn, receipt, 1, "Groceries", "50.00")
    conn.execute("DELETE FROM bank.users WHERE id = %s", (user["id"],))
    assert lines(conn) == []
    assert value(conn, "SELECT count(*) FROM bank.monthly_totals") == 0


def test_verify_reports_a_wrong_share_and_rebuild_repairs_it(conn: psycopg.Connection, user: dict) -> None:
    receipt = add_txn(conn, user["checking"], "50.00", category="Groceries")
    line(conn, receipt, 1, "Groceries", "20.00")
    line(conn, receipt, 2, "Shopping", "30.00")
    conn.execute("UPDATE bank.transaction_splits SET base_amount = base_amount + 1 WHERE line_no = 2")
    conn.execute("UPDATE bank.monthly_totals SET spending = spending + 1 WHERE category = 'Shopping'")
    assert conn.execute("SELECT subject, detail, expected, actual FROM bank.verify_totals()").fetchall() == [
        ("monthly_totals.spending", "2025-03 Shopping", Decimal("30.00"), Decimal("31.00")),
        ("transaction_splits.base_amount", f"transaction {receipt['id']} 2025-03-05 line 2", Decimal("30.00"),
         Decimal("31.00")),
    ]
    conn.execute("SELECT bank.rebuild_totals()")
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert [r[5] for r in lines(conn)] == [Decimal("20.00"), Decimal("30.00")]


# -- bad input: a named rule, nothing changed -----------------------------------------------------------


def test_bad_lines_are_refused_by_a_named_rule_and_change_nothing(conn: psycopg.Connection, user: dict) -> None:
    receipt = add_txn(conn, user["checking"], "42.50", category="Groceries")
    line(conn, receipt, 1, "Groceries", "42.50")
    transfer = add_txn(conn, user["checking"], "10.00", kind="card_payment")
    other = make_user(conn, "other@example.com")
    theirs = add_txn(conn, make_account(conn, other["id"]), "9.00", category="Groceries")
    key = {"d": receipt["txn_date"], "t": receipt["id"]}
    cases = [
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         " VALUES (%(d)s, %(t)s, 2, 'Shopping', 0)", "23514", "transaction_splits_amount_check",
         'new row for relation "transaction_splits" violates check constraint "transaction_splits_amount_check"'),
        ("UPDATE bank.transaction_splits SET amount = -1 WHERE transaction_id = %(t)s", "23514",
         "transaction_splits_amount_check",
         'new row for relation "transaction_splits" violates check constraint "transaction_splits_amount_check"'),
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         " VALUES (%(d)s, %(t)s, 2, 'Bitcoin', 1)", "23503", "transaction_splits_category_fkey",
         'insert or update on table "transaction_splits" violates foreign key constraint'
         ' "transaction_splits_category_fkey"'),
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         " VALUES (%(d)s, %(t)s, 2, 'Shopping', 1.005)", "23514", "transaction_splits_amount_scale_check",
         "transaction_splits.amount 1.005 has more decimals than USD allows (2)"),
        # Another user's transaction is one that does not exist, as the key would say.
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         f" VALUES ('2025-03-05', {theirs['id']}, 1, 'Shopping', 9)", "23503",
         "transaction_splits_user_id_txn_date_transaction_id_fkey",
         'insert or update on table "transaction_splits" violates foreign key constraint'
         ' "transaction_splits_user_id_txn_date_transaction_id_fkey"'),
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         " VALUES ('2025-03-06', %(t)s, 2, 'Shopping', 9)", "23503",
         "transaction_splits_user_id_txn_date_transaction_id_fkey",
         'insert or update on table "transaction_splits" violates foreign key constraint'
         ' "transaction_splits_user_id_txn_date_transaction_id_fkey"'),
        (f"INSERT INTO bank.transaction_splits (user_id, txn_date, transaction_id, line_no, category, amount)"
         f" VALUES ({other['id']}, '2025-03-05', {theirs['id']}, 1, 'Shopping', 9)", "42501", None,
         'new row violates row-level security policy for table "transaction_splits"'),
        (f"INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
         f" VALUES ('2025-03-05', {transfer['id']}, 1, 'Shopping', 10)", "BKSP2", None,
         f"transaction_splits_regular_check: transaction {transfer['id']} is a card_payment transaction,"
         " only regular ones can be split"),
        ("INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount, base_amount)"
         " VALUES (%(d)s, %(t)s, 2, 'Shopping', 1, 1)", "42501", None,
         "permission denied for table transaction_splits"),
        ("UPDATE bank.transaction_splits SET base_amount = 1", "42501", None,
         "permission denied for table transaction_splits"),
    ]
    with acting(conn, "bank_app", user["id"]):
        before = (lines(conn), totals(conn))
        for statement, sqlstate, constraint, message in cases:
            with pytest.raises(psycopg.Error) as failure, conn.transaction():
                conn.execute(statement, key if "%(" in statement else None)
            error = failure.value
            assert (error.sqlstate, error.diag.constraint_name, error.diag.message_primary) == (
                sqlstate, constraint, message
            ), statement
            assert (lines(conn), totals(conn)) == before
    assert value(conn, "SELECT count(*) FROM bank.transaction_splits WHERE user_id = %s", (other["id"],)) == 0


# -- the sum, checked at COMMIT ------------------------------------------------------------------------


@pytest.fixture
def committed(db: str) -> dict:
    """A user with a committed 42.50 Groceries transaction and a Groceries budget, in a database of its own."""
    with psycopg.connect(db, autocommit=True) as conn:
        u = make_user(conn, "split@example.com")
        account = make_account(conn, u["id"])
        txn = add_txn(conn, account, "42.50", category="Groceries")
        insert(conn, "budgets", user_id=u["id"], year=2025, month=3, category="Groceries", limit_amount="100")
    return {"db": db, "user": u, "account": account, "txn": txn}


def test_lines_that_do_not_sum_fail_at_commit_naming_both_sums(committed: dict) -> None:
    txn = committed["txn"]
    with psycopg.connect(committed["db"]) as conn:
        line(conn, txn, 1, "Groceries", "30.00")
        line(conn, txn, 2, "Shopping", "10.00")  # 40.00 of 42.50: accepted until COMMIT
        # Shared over the lines' 40.00: 31.875 and 10.625 round to 31.88 and 10.63 (42.51); the largest gives back 0.01.
        assert totals(conn) == [(MARCH, "Groceries", Decimal("31.87"), 0, 1), (MARCH, "Shopping", Decimal("10.63"), 0, 1)]
        with pytest.raises(psycopg.Error) as failure:
            conn.commit()
        error = failure.value
        assert error.sqlstate == "BKSP1"
        assert error.diag.message_primary == (
            f"transaction_splits_sum_check: the lines of transaction {txn['id']} sum to 40.00 USD, its amount is 42.50 USD"
        )
        assert error.diag.message_detail == (
            f"Key (user_id, txn_date, transaction_id)=({txn['user_id']}, 2025-03-05, {txn['id']}); difference 2.50 USD."
        )
    with psycopg.connect(committed["db"]) as conn:
        assert lines(conn) == []
        assert totals(conn) == [(MARCH, "Groceries", Decimal("42.50"), 0, 1)]
        assert value(conn, "SELECT spent_amount FROM bank.budgets") == Decimal("42.50")


def test_parent_and_lines_change_together_in_any_order(committed: dict) -> None:
    txn = committed["txn"]
    with psycopg.connect(committed["db"]) as conn:
        line(conn, txn, 1, "Groceries", "30.00")
        line(conn, txn, 2, "Shopping", "12.50")
        conn.commit()
        # The amount first, then the lines.
        conn.execute("UPDATE bank.transactions SET amount = 50.00 WHERE id = %s", (txn["id"],))
        conn.execute("UPDATE bank.transaction_splits SET amount = 20.00 WHERE line_no = 2")
        conn.commit()
        # The lines first (three for two), then the amount and date.
        conn.execute("DELETE FROM bank.transaction_splits")
        for n, category, amount in ((1, "Groceries", "10.00"), (2, "Shopping", "10.00"), (3, "Utilities", "5.00")):
            line(conn, txn, n, category, amount)
        conn.execute("UPDATE bank.transactions SET amount = 25.00, txn_date = '2025-03-31' WHERE id = %s", (txn["id"],))
        conn.commit()
        assert totals(conn) == [
            (MARCH, "Groceries", Decimal("10.00"), 0, 1), (MARCH, "Shopping", Decimal("10.00"), 0, 1),
            (MARCH, "Utilities", Decimal("5.00"), 0, 1),
        ]
        assert value(conn, "SELECT spent_amount FROM bank.budgets") == Decimal("10.00")
        # An amount changed alone, or a date moved after it, fails at COMMIT.
        conn.execute("UPDATE bank.transactions SET amount = 26.00 WHERE id = %s", (txn["id"],))
        conn.execute("UPDATE bank.transactions SET txn_date = '2025-04-01' WHERE id = %s", (txn["id"],))
        with pytest.raises(psycopg.Error) as failure:
            conn.commit()
        assert failure.value.sqlstate == "BKSP1"
        assert failure.value.diag.message_primary == (
            f"transaction_splits_sum_check: the lines of transaction {txn['id']} sum to 25.00 USD, its amount is 26.00 USD"
        )
        # A split transaction that becomes a payment fails at COMMIT too.
        conn.execute("UPDATE bank.transactions SET kind = 'card_payment' WHERE id = %s", (txn["id"],))
        with pytest.raises(psycopg.Error) as failure:
            conn.commit()
        assert failure.value.sqlstate == "BKSP2"
        assert failure.value.diag.message_primary == (
            f"transaction_splits_regular_check: transaction {txn['id']} is a card_payment transaction,"
            " only regular ones can be split"
        )
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        assert [r[2:5] for r in lines(conn)] == [
            (1, "Groceries", Decimal("10.00")), (2, "Shopping", Decimal("10.00")), (3, "Utilities", Decimal("5.00"))
        ]


# -- concurrency ---------------------------------------------------------------------------------------


def test_two_sessions_splitting_one_users_transactions_in_one_month_and_category_stay_exact(db: str) -> None:
    """Two sessions, each splitting and changing its own transactions of one user, all in March and in
    the same categories: every statement locks the same totals rows in the same order, so none
    deadlocks, and the totals end exact."""
    with psycopg.connect(db, autocommit=True) as conn:
        u = make_user(conn, "busy-split@example.com")
        account = make_account(conn, u["id"])
        insert(conn, "budgets", user_id=u["id"], year=2025, month=3, category="Groceries", limit_amount="100")
        mine = [[add_txn(conn, account, "30.00", category="Shopping", txn_date=f"2025-03-{10 + i:02d}")
                 for i in range(s * 5, s * 5 + 5)] for s in range(2)]
    start = threading.Barrier(2)

    def session(n: int) -> None:
        with psycopg.connect(db) as conn:
            start.wait()
            for round_ in range(8):
                for txn in mine[n]:
                    key = (txn["user_id"], txn["txn_date"], txn["id"])
                    # Split in one statement, commit.
                    conn.execute("DELETE FROM bank.transaction_splits WHERE user_id = %s AND txn_date = %s"
                                 " AND transaction_id = %s", key)
                    conn.execute(
                        "INSERT INTO bank.transaction_splits (user_id, txn_date, transaction_id, line_no, category,"
                        " amount) VALUES (%(u)s, %(d)s, %(t)s, 1, 'Groceries', 20.00 + %(r)s),"
                        " (%(u)s, %(d)s, %(t)s, 2, 'Shopping', 10.00)",
                        {"u": key[0], "d": key[1], "t": key[2], "r": Decimal(round_ % 2)},
                    )
                    conn.execute("UPDATE bank.transactions SET amount = %s WHERE user_id = %s AND txn_date = %s"
                                 " AND id = %s", (Decimal(30 + round_ % 2), *key))
                    conn.commit()
                    # Change a line and the parent together, or unsplit.
                    if round_ % 3 == 2:
                        conn.execute("DELETE FROM bank.transaction_splits WHERE user_id = %s AND txn_date = %s"
                                     " AND transaction_id = %s", key)
                    conn.commit()

    assert in_parallel(session, range(2)) == []
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        # Round 7: every transaction 31.00, split 21.00 Groceries + 10.00 Shopping.
        assert totals(conn) == [(MARCH, "Groceries", Decimal("210.00"), 0, 10), (MARCH, "Shopping", Decimal("100.00"), 0, 10)]
        assert value(conn, "SELECT spent_amount FROM bank.budgets") == Decimal("210.00")


def wait_until_blocked(conn: psycopg.Connection, pid: int) -> None:
    for _ in range(500):
        if value(conn, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)):
            return
        time.sleep(0.01)
    raise AssertionError(f"session {pid} never waited for a lock")


def test_a_split_and_a_new_amount_in_two_sessions_take_turns(committed: dict) -> None:
    """A line locks its transaction FOR SHARE: the other session's change of the amount waits for it,
    then counts the lines it committed (and changes them to the new amount in its own transaction)."""
    txn = committed["txn"]
    with psycopg.connect(committed["db"]) as splitter, psycopg.connect(committed["db"]) as changer, \
            psycopg.connect(committed["db"], autocommit=True) as watcher:
        line(splitter, txn, 1, "Groceries", "30.00")
        line(splitter, txn, 2, "Shopping", "12.50")

        def change() -> None:
            changer.execute("UPDATE bank.transactions SET amount = 52.50 WHERE id = %s", (txn["id"],))
            changer.execute("UPDATE bank.transaction_splits SET amount = 22.50 WHERE line_no = 2")
            changer.commit()

        done = threading.Thread(target=change)
        done.start()
        wait_until_blocked(watcher, changer.info.backend_pid)
        splitter.commit()
        done.join()
        assert totals(watcher) == [(MARCH, "Groceries", Decimal("30.00"), 0, 1), (MARCH, "Shopping", Decimal("22.50"), 0, 1)]
        assert [r[4:] for r in lines(watcher)] == [(Decimal("30.00"), Decimal("30.00")),
                                                   (Decimal("22.50"), Decimal("22.50"))]
        assert watcher.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
