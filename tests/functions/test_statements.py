"""Statements and their reconciliation: bank.statements, api.reconcile_statement, api.unreconcile_statement,
api.statements, and the guard on reconciled transactions. Writes act as bank_app for a user, as an application
would."""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg
import pytest

from ..helpers import add_txn, insert, make_account, make_user, value
from ..security.conftest import acting

MARCH = {"period_start": "2025-03-01", "period_end": "2025-03-31"}


@pytest.fixture
def user(conn: psycopg.Connection) -> dict:
    """A USD user whose checking account has, in March 2025, a salary of 1,000.00, two purchases (120.50, 30.25)
    and a transfer out of 100.00: credits - debits = 749.25; one purchase on Feb 28 and one on Apr 1 around it.
    Another user B has an account and a statement of it."""
    conn.execute("INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)"
                 " VALUES ('EUR', 'USD', '2025-01-01', 1.1)")
    u = make_user(conn, "reconciler@example.com")
    u["account"] = account = make_account(conn, u["id"], balance="1249.25")
    u["savings"] = make_account(conn, u["id"], masked_account="****2222", account_type="savings")
    u["txns"] = [
        add_txn(conn, account, "12.00", txn_date="2025-02-28"),
        add_txn(conn, account, "1000.00", "credit", txn_date="2025-03-01", description="Salary"),
        add_txn(conn, account, "120.50", txn_date="2025-03-05"),
        add_txn(conn, account, "30.25", txn_date="2025-03-31", description="Corner Market"),
        add_txn(conn, account, "100.00", txn_date="2025-03-20", kind="transfer",
                transfer_id=value(conn, "SELECT nextval('bank.transfer_id_seq')")),
        add_txn(conn, account, "7.00", txn_date="2025-04-01"),
    ]
    b = make_user(conn, "b@example.com")
    u["b_account"] = make_account(conn, b["id"], masked_account="****3333")
    u["b_statement"] = insert(conn, "statements", user_id=b["id"], account_id=u["b_account"]["id"], **MARCH,
                              opening_balance="0", closing_balance="0")
    return u


def new_statement(conn: psycopg.Connection, account: dict, opening: str = "500.00", closing: str = "1249.25",
                  **period) -> dict:
    """A statement of the account written as bank_app would (the caller acts for the account's user)."""
    row = {"account_id": account["id"], **(period or MARCH), "opening_balance": opening, "closing_balance": closing}
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        f"INSERT INTO bank.statements ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))}) RETURNING *",
        list(row.values()),
    ).fetchone()


def view(conn: psycopg.Connection, statement_id: int) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT credits, debits, txn_count, other_currency_count, difference, reconciled, unreconciled_count"
        " FROM api.statements WHERE id = %s", (statement_id,),
    ).fetchone()


def marked(conn: psycopg.Connection, account: dict) -> list[tuple]:
    return conn.execute(
        "SELECT txn_date, amount, statement_id FROM bank.transactions WHERE account_id = %s ORDER BY txn_date, id",
        (account["id"],),
    ).fetchall()


def failure(conn: psycopg.Connection, query: str, params: tuple = ()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as raised, conn.transaction():
        conn.execute(query, params)
    return raised.value


# Reconciling ----------------------------------------------------------------------------------


def test_a_statement_that_adds_up_reconciles_and_marks_its_periods_transactions(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        assert view(conn, statement["id"]) == {
            "credits": Decimal("1000.00"), "debits": Decimal("250.75"), "txn_count": 4, "other_currency_count": 0,
            "difference": Decimal("0.00"), "reconciled": False, "unreconciled_count": 4,
        }
        done = conn.execute(
            "SELECT id, reconciled_at IS NOT NULL FROM api.reconcile_statement(%s)", (statement["id"],)
        ).fetchone()
        assert done == (statement["id"], True)
        assert marked(conn, user["account"]) == [
            (datetime.date(2025, 2, 28), Decimal("12.00"), None),
            (datetime.date(2025, 3, 1), Decimal("1000.00"), statement["id"]),
            (datetime.date(2025, 3, 5), Decimal("120.50"), statement["id"]),
            (datetime.date(2025, 3, 20), Decimal("100.00"), statement["id"]),
            (datetime.date(2025, 3, 31), Decimal("30.25"), statement["id"]),
            (datetime.date(2025, 4, 1), Decimal("7.00"), None),
        ]
        assert view(conn, statement["id"])["reconciled"] is True
        assert view(conn, statement["id"])["unreconciled_count"] == 0
        totals = conn.execute("SELECT * FROM bank.monthly_totals ORDER BY month, category").fetchall()
    # Reconciling changes no total: a statement_id is no amount.
    assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (user["id"],)).fetchall() == []
    assert totals == conn.execute("SELECT * FROM bank.monthly_totals WHERE user_id = %s ORDER BY month, category",
                                  (user["id"],)).fetchall()


def test_a_statement_that_does_not_add_up_fails_naming_the_difference_and_changes_nothing(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"], opening="500.00", closing="1259.25")
        before = marked(conn, user["account"])
        error = failure(conn, "SELECT api.reconcile_statement(%s)", (statement["id"],))
        assert error.sqlstate == "BKST1"
        assert error.diag.message_primary == (
            f"statement {statement['id']} (account {user['account']['id']}, 2025-03-01 to 2025-03-31) does not "
            "reconcile: closing - opening = 759.25 USD but credits - debits = 749.25 USD (difference 10.00 USD)"
        )
        assert error.diag.message_detail == (
            "opening 500.00, closing 1259.25, credits 1000.00, debits 250.75, 4 transaction(s) from 2025-03-01 "
            "to 2025-03-31."
        )
        assert marked(conn, user["account"]) == before
        assert all(row[2] is None for row in before)
        assert view(conn, statement["id"])["difference"] == Decimal("10.00")
        assert value(conn, "SELECT reconciled_at FROM bank.statements WHERE id = %s", (statement["id"],)) is None


def test_an_empty_period_reconciles_only_when_the_balance_did_not_move(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        moved = new_statement(conn, user["savings"], opening="10.00", closing="10.50")
        error = failure(conn, "SELECT api.reconcile_statement(%s)", (moved["id"],))
        assert error.sqlstate == "BKST1"
        assert error.diag.message_primary.endswith(
            "closing - opening = 0.50 USD but credits - debits = 0.00 USD (difference 0.50 USD)"
        )
        still = new_statement(conn, user["savings"], opening="10.00", closing="10", period_start="2025-04-01",
                              period_end="2025-04-30")
        assert value(conn, "SELECT reconciled_at IS NOT NULL FROM api.reconcile_statement(%s)", (still["id"],))


def test_a_transaction_in_another_currency_than_the_statement_is_refused(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        add_txn(conn, user["account"], "9.00", txn_date="2025-03-10", currency="EUR")
        statement = new_statement(conn, user["account"])
        error = failure(conn, "SELECT api.reconcile_statement(%s)", (statement["id"],))
        assert error.sqlstate == "BKST3"
        assert error.diag.message_primary == (
            f"statement {statement['id']} (account {user['account']['id']}, 2025-03-01 to 2025-03-31) cannot be "
            "reconciled: 1 of its 5 transactions are in EUR, not in the statement's USD"
        )
        assert view(conn, statement["id"])["other_currency_count"] == 1
        assert view(conn, statement["id"])["difference"] is None
        assert all(row[2] is None for row in marked(conn, user["account"]))


def test_reconciling_twice_or_unreconciling_an_open_statement_is_refused(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        error = failure(conn, "SELECT api.unreconcile_statement(%s)", (statement["id"],))
        assert (error.sqlstate, error.diag.message_primary) == (
            "BKST4", f"statement {statement['id']} (account {user['account']['id']}, 2025-03-01 to 2025-03-31) is "
                     "not reconciled")
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        error = failure(conn, "SELECT api.reconcile_statement(%s)", (statement["id"],))
        assert (error.sqlstate, error.diag.message_primary) == (
            "BKST4", f"statement {statement['id']} (account {user['account']['id']}, 2025-03-01 to 2025-03-31) is "
                     "already reconciled")


# Bad input ------------------------------------------------------------------------------------


def test_an_overlapping_statement_of_the_same_account_is_refused(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        new_statement(conn, user["account"])
        for start, end in (("2025-03-31", "2025-04-30"), ("2025-02-01", "2025-03-01"), ("2025-03-10", "2025-03-11")):
            error = failure(
                conn, "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance,"
                      " closing_balance) VALUES (%s, %s, %s, 0, 0)", (user["account"]["id"], start, end),
            )
            assert error.sqlstate == "23P01"  # exclusion_violation
            assert error.diag.constraint_name == "statements_account_id_period_excl"
        # The next month, and the same month of another account, are no overlap.
        new_statement(conn, user["account"], period_start="2025-04-01", period_end="2025-04-30")
        new_statement(conn, user["savings"], opening="0", closing="0")
        assert value(conn, "SELECT count(*) FROM bank.statements") == 3


def test_a_period_that_ends_before_it_starts_is_refused(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        error = failure(
            conn, "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance,"
                  " closing_balance) VALUES (%s, '2025-03-31', '2025-03-01', 0, 0)", (user["account"]["id"],),
        )
        assert (error.sqlstate, error.diag.constraint_name) == ("23514", "statements_period_check")


@pytest.mark.parametrize(
    ("currency", "column", "amount", "message"),
    [
        ("USD", "closing_balance", "1249.255",
         "statements.closing_balance 1249.255 has more decimals than USD allows (2)"),
        ("USD", "opening_balance", "0.001", "statements.opening_balance 0.001 has more decimals than USD allows (2)"),
        ("JPY", "closing_balance", "1500.5", "statements.closing_balance 1500.5 has more decimals than JPY allows (0)"),
    ],
)
def test_a_balance_with_more_decimals_than_the_accounts_currency_is_refused(conn, user, currency, column, amount,
                                                                             message) -> None:
    account = make_account(conn, user["id"], currency, masked_account="****4444")
    with acting(conn, "bank_app", user["id"]):
        balances = {"opening_balance": "0", "closing_balance": "0", column: amount}
        error = failure(
            conn, "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance,"
                  " closing_balance) VALUES (%s, '2025-03-01', '2025-03-31', %s, %s)",
            (account["id"], balances["opening_balance"], balances["closing_balance"]),
        )
        assert (error.sqlstate, error.diag.constraint_name) == ("23514", f"statements_{column}_scale_check")
        assert error.diag.message_primary == message
        assert value(conn, "SELECT count(*) FROM bank.statements") == 0


def test_balances_are_stored_at_the_currencys_scale_in_the_accounts_currency(conn, user) -> None:
    jpy = make_account(conn, user["id"], "JPY", masked_account="****5555")
    with acting(conn, "bank_app", user["id"]):
        usd = new_statement(conn, user["account"], opening="1.5", closing="1249.250")
        yen = new_statement(conn, jpy, opening="1500.00", closing="2000")
        assert (usd["currency"], str(usd["opening_balance"]), str(usd["closing_balance"])) == ("USD", "1.50", "1249.25")
        assert (yen["currency"], str(yen["opening_balance"]), str(yen["closing_balance"])) == ("JPY", "1500", "2000")
        error = failure(conn, "UPDATE bank.statements SET closing_balance = 'NaN' WHERE id = %s", (usd["id"],))
        assert (error.sqlstate, error.diag.constraint_name) == ("23514", "statements_closing_balance_finite_check")
    # The account's currency changing later leaves a statement in the currency the bank printed.
    kept = insert(conn, "statements", user_id=user["id"], account_id=jpy["id"], **MARCH, opening_balance="0",
                  closing_balance="2000")
    conn.execute("UPDATE bank.accounts SET currency = 'EUR' WHERE id = %s", (jpy["id"],))
    conn.execute("UPDATE bank.statements SET closing_balance = 2500 WHERE id = %s", (kept["id"],))
    assert conn.execute("SELECT currency, closing_balance FROM bank.statements WHERE id = %s",
                        (kept["id"],)).fetchone() == ("JPY", Decimal("2500"))
    error = failure(conn, "UPDATE bank.statements SET closing_balance = 2500.5 WHERE id = %s", (kept["id"],))
    assert (error.sqlstate, error.diag.constraint_name) == ("23514", "statements_closing_balance_scale_check")


def test_another_users_account_or_statement_cannot_be_reconciled(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        error = failure(
            conn, "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance,"
                  " closing_balance) VALUES (%s, '2025-03-01', '2025-03-31', 0, 0)", (user["b_account"]["id"],),
        )
        assert (error.sqlstate, error.diag.constraint_name) == ("23503", "statements_user_id_account_id_fkey")
        assert error.diag.message_detail == (
            f"Key (user_id, account_id)=({user['id']}, {user['b_account']['id']}) is not present in table \"accounts\"."
        )
        for function in ("reconcile_statement", "unreconcile_statement"):
            error = failure(conn, f"SELECT api.{function}(%s)", (user["b_statement"]["id"],))
            assert (error.sqlstate, error.diag.message_primary) == (
                "BKNF1", f"api.{function}: no statement {user['b_statement']['id']} for user {user['id']}"
            )
        mine = new_statement(conn, user["account"])
        error = failure(conn, "UPDATE bank.statements SET account_id = %s WHERE id = %s",
                        (user["b_account"]["id"], mine["id"]))
        assert (error.sqlstate, error.diag.constraint_name) == ("23503", "statements_user_id_account_id_fkey")
    assert value(conn, "SELECT reconciled_at FROM bank.statements WHERE id = %s", (user["b_statement"]["id"],)) is None


# A reconciled transaction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE bank.transactions SET amount = 120.51 WHERE id = %(id)s",
        "UPDATE bank.transactions SET txn_type = 'credit' WHERE id = %(id)s",
        "UPDATE bank.transactions SET txn_date = '2025-03-06' WHERE id = %(id)s",
        "UPDATE bank.transactions SET txn_date = '2025-05-05' WHERE id = %(id)s",  # another partition
        "UPDATE bank.transactions SET account_id = %(savings)s WHERE id = %(id)s",
        "UPDATE bank.transactions SET currency = 'EUR' WHERE id = %(id)s",
        "DELETE FROM bank.transactions WHERE id = %(id)s",
    ],
)
def test_a_reconciled_transaction_cannot_change_its_amount_direction_date_or_account(conn, user, change) -> None:
    purchase = user["txns"][2]
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        before = marked(conn, user["account"])
        error = failure(conn, change, {"id": purchase["id"], "savings": user["savings"]["id"]})
        assert error.sqlstate == "BKST2"
        assert error.diag.message_primary == (
            f"transaction {purchase['id']} (debit 120.50 USD, 2025-03-05) is reconciled by statement "
            f"{statement['id']}: its amount, direction, currency, date and account cannot change, nor can it be deleted"
        )
        assert error.diag.message_hint == f"api.unreconcile_statement({statement['id']}) releases it."
        assert marked(conn, user["account"]) == before


def test_a_reconciled_transaction_may_still_be_described_and_categorized(conn, user) -> None:
    purchase = user["txns"][2]
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        conn.execute("UPDATE bank.transactions SET description = 'Shoes', category = 'Shopping', amount = 120.5"
                     " WHERE id = %s", (purchase["id"],))
        assert conn.execute("SELECT description, category, amount, statement_id FROM bank.transactions"
                            " WHERE id = %s", (purchase["id"],)).fetchone() == (
            "Shoes", "Shopping", Decimal("120.50"), statement["id"])


def test_a_reconciled_statement_cannot_change_nor_be_deleted(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        for change in ("UPDATE bank.statements SET closing_balance = 1 WHERE id = %s",
                       "UPDATE bank.statements SET period_end = '2025-03-30' WHERE id = %s",
                       "DELETE FROM bank.statements WHERE id = %s"):
            error = failure(conn, change, (statement["id"],))
            assert (error.sqlstate, error.diag.message_primary) == (
                "BKST2", f"statement {statement['id']} (account {user['account']['id']}, 2025-03-01 to 2025-03-31) "
                         "is reconciled: its account, period and balances cannot change, nor can it be deleted")


def test_unreconciling_releases_the_statement_and_its_transactions(conn, user) -> None:
    purchase = user["txns"][2]
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        released = conn.execute("SELECT reconciled_at FROM api.unreconcile_statement(%s)",
                                (statement["id"],)).fetchone()
        assert released == (None,)
        assert all(row[2] is None for row in marked(conn, user["account"]))
        conn.execute("UPDATE bank.transactions SET amount = 130.50 WHERE id = %s", (purchase["id"],))
        assert view(conn, statement["id"])["difference"] == Decimal("10.00")
        conn.execute("UPDATE bank.statements SET closing_balance = 1239.25 WHERE id = %s", (statement["id"],))
        assert view(conn, statement["id"])["difference"] == Decimal("0.00")
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        assert view(conn, statement["id"])["reconciled"] is True
        conn.execute("SELECT api.unreconcile_statement(%s)", (statement["id"],))
        conn.execute("DELETE FROM bank.transactions WHERE id = %s", (purchase["id"],))
        conn.execute("DELETE FROM bank.statements WHERE id = %s", (statement["id"],))
        assert value(conn, "SELECT count(*) FROM bank.statements WHERE id = %s", (statement["id"],)) == 0


def test_a_late_transaction_in_a_reconciled_period_shows_in_the_view(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        add_txn(conn, user["account"], "4.75", txn_date="2025-03-15")
        assert view(conn, statement["id"]) == {
            "credits": Decimal("1000.00"), "debits": Decimal("255.50"), "txn_count": 5, "other_currency_count": 0,
            "difference": Decimal("4.75"), "reconciled": True, "unreconciled_count": 1,
        }


def test_deleting_the_account_or_the_user_takes_reconciled_statements_and_transactions_along(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        statement = new_statement(conn, user["account"])
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        conn.execute("DELETE FROM bank.accounts WHERE id = %s", (user["account"]["id"],))
        assert value(conn, "SELECT count(*) FROM bank.statements") == 0
        assert value(conn, "SELECT count(*) FROM bank.transactions") == 0
        kept = new_statement(conn, user["savings"], opening="0", closing="0")
        conn.execute("SELECT api.reconcile_statement(%s)", (kept["id"],))
        conn.execute("DELETE FROM bank.users WHERE id = %s", (user["id"],))
    assert value(conn, "SELECT count(*) FROM bank.statements WHERE user_id = %s", (user["id"],)) == 0


def test_an_import_batch_holding_a_reconciled_transaction_cannot_be_undone(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        batch = value(conn, "SELECT id FROM api.import_transactions(%s, %s::jsonb, 'march.csv')", (
            user["savings"]["id"], '[{"txn_date": "2025-03-07", "amount": "25.00", "description": "Interest"}]'))
        statement = new_statement(conn, user["savings"], opening="0", closing="25.00")
        conn.execute("SELECT api.reconcile_statement(%s)", (statement["id"],))
        error = failure(conn, "SELECT api.undo_import(%s)", (batch,))
        assert error.sqlstate == "BKST2"
        conn.execute("SELECT api.unreconcile_statement(%s)", (statement["id"],))
        conn.execute("SELECT api.undo_import(%s)", (batch,))
        assert view(conn, statement["id"])["difference"] == Decimal("25.00")
