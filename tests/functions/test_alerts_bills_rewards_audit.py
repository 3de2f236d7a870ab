"""Alerts on crossings, bill status and recurrence, the rewards ledger, the append-only audit trail."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import psycopg
import pytest

from ..helpers import add_txn, insert, make_user, value


def alerts(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT type::text, message FROM bank.alerts ORDER BY id").fetchall()


# Budget alerts ---------------------------------------------------------------------------------


def test_budget_alerts_fire_once_per_crossing(conn: psycopg.Connection, user: dict) -> None:
    insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Groceries", limit_amount="100.00")
    add_txn(conn, user["checking"], "50.00", category="Groceries")
    assert alerts(conn) == []
    add_txn(conn, user["checking"], "30.00", category="Groceries")  # 80%: the warning
    add_txn(conn, user["checking"], "5.00", category="Groceries")  # still between: nothing new
    add_txn(conn, user["checking"], "20.00", category="Groceries")  # over the limit
    add_txn(conn, user["checking"], "20.00", category="Groceries")  # still over: nothing new
    assert alerts(conn) == [
        ("budget_warning", "Groceries budget for 2025-03 nearly used: spent 80.00 USD of 100.00 USD (80%)"),
        ("budget_exceeded", "Groceries budget for 2025-03 exceeded: spent 105.00 USD of 100.00 USD (105%)"),
    ]


def test_a_second_crossing_in_the_same_month_is_not_alerted_again(conn: psycopg.Connection, user: dict) -> None:
    insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Shopping", limit_amount="10.00")
    big = add_txn(conn, user["checking"], "11.00", category="Shopping")
    conn.execute("DELETE FROM bank.transactions WHERE id = %s", (big["id"],))
    add_txn(conn, user["checking"], "12.00", category="Shopping")
    assert [a[0] for a in alerts(conn)] == ["budget_exceeded"]


def test_transfers_and_payments_never_raise_budget_alerts(conn: psycopg.Connection, user: dict) -> None:
    insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Transfer", limit_amount="10.00")
    add_txn(conn, user["checking"], "500.00", category="Transfer", kind="card_payment")
    transfer_id = value(conn, "SELECT nextval('bank.transfer_id_seq')")
    add_txn(conn, user["checking"], "300.00", category="Transfer", kind="transfer", transfer_id=transfer_id)
    add_txn(conn, user["savings"], "300.00", "credit", category="Transfer", kind="transfer", transfer_id=transfer_id)
    assert value(conn, "SELECT spent_amount FROM bank.budgets") == 0
    assert alerts(conn) == []


def test_a_budget_created_over_its_limit_alerts_at_once(conn: psycopg.Connection, user: dict) -> None:
    add_txn(conn, user["checking"], "75.50", category="Entertainment")
    insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Entertainment", limit_amount="50")
    assert alerts(conn) == [
        ("budget_exceeded", "Entertainment budget for 2025-03 exceeded: spent 75.50 USD of 50.00 USD (151%)")
    ]


# Low balance -----------------------------------------------------------------------------------


def test_low_balance_fires_on_the_crossing_once_a_day(conn: psycopg.Connection, user: dict) -> None:
    account = user["checking"]["id"]
    conn.execute("UPDATE bank.accounts SET low_balance_threshold = 100.00 WHERE id = %s", (account,))
    conn.execute("UPDATE bank.accounts SET balance = 120.00 WHERE id = %s", (account,))
    assert alerts(conn) == []
    conn.execute("UPDATE bank.accounts SET balance = 95.20 WHERE id = %s", (account,))
    conn.execute("UPDATE bank.accounts SET balance = 80.00 WHERE id = %s", (account,))  # still below
    conn.execute("UPDATE bank.accounts SET balance = 150.00 WHERE id = %s", (account,))
    conn.execute("UPDATE bank.accounts SET balance = 90.00 WHERE id = %s", (account,))  # again, same day
    assert alerts(conn) == [
        ("low_balance", "Balance of Bank ****0001 is 95.20 USD, below your 100.00 USD threshold")
    ]
    assert value(conn, "SELECT period FROM bank.alerts") == value(conn, "SELECT current_date")


# Bills -----------------------------------------------------------------------------------------


def bill(conn: psycopg.Connection, user: dict, **values) -> dict:
    row = {"biller_name": "City Power", "due_date": "2025-03-20", "amount_due": "88.00", "currency": "USD", **values}
    return insert(conn, "bills", user_id=user["id"], **row)


def status(conn: psycopg.Connection, bill_id: int, new: str) -> None:
    conn.execute("UPDATE bank.bills SET status = %s WHERE id = %s", (new, bill_id))


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["paid"], None), (["overdue"], None), (["overdue", "paid"], None),
        (["paid", "upcoming"], ("paid", "upcoming")), (["paid", "overdue"], ("paid", "overdue")),
        (["overdue", "upcoming"], ("overdue", "upcoming")),
    ],
)
def test_bill_status_changes(conn: psycopg.Connection, user: dict, path: list[str], refused: tuple | None) -> None:
    b = bill(conn, user)
    for new in path[:-1]:
        status(conn, b["id"], new)
    if refused is None:
        status(conn, b["id"], path[-1])
        assert value(conn, "SELECT status::text FROM bank.bills WHERE id = %s", (b["id"],)) == path[-1]
        return
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        status(conn, b["id"], path[-1])
    assert failure.value.sqlstate == "BKBL1"
    assert failure.value.diag.message_primary == (
        f"bill (id={b['id']}, biller=City Power) cannot go from {refused[0]} to {refused[1]}"
    )


def test_paying_records_when(conn: psycopg.Connection, user: dict) -> None:
    b = bill(conn, user)
    assert b["paid_at"] is None
    status(conn, b["id"], "paid")
    assert value(conn, "SELECT paid_at = now() FROM bank.bills WHERE id = %s", (b["id"],)) is True


@pytest.mark.parametrize(
    ("recurrence", "first", "next_dues"),
    [
        ("monthly", "2025-01-31", ["2025-02-28", "2025-03-31", "2025-04-30"]),
        ("weekly", "2025-03-28", ["2025-04-04", "2025-04-11", "2025-04-18"]),
        ("yearly", "2024-02-29", ["2025-02-28", "2026-02-28", "2027-02-28"]),
    ],
)
def test_a_recurring_bill_gets_its_next_occurrence_when_paid(
    conn: psycopg.Connection, user: dict, recurrence: str, first: str, next_dues: list[str]
) -> None:
    current = bill(conn, user, due_date=first, recurrence=recurrence)
    for due in next_dues:
        status(conn, current["id"], "paid")
        current = conn.execute(
            "SELECT id, due_date, status::text, occurrence FROM bank.bills ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert (current[1].isoformat(), current[2]) == (due, "upcoming")
        current = {"id": current[0]}
    assert value(conn, "SELECT count(*) FROM bank.bills") == 4


def test_bill_due_alerts_and_the_overdue_sweep(conn: psycopg.Connection, user: dict) -> None:
    due_soon = bill(conn, user, due_date="2025-03-20")
    bill(conn, user, biller_name="Water", due_date="2025-03-30")  # not within 3 days
    late = bill(conn, user, biller_name="Phone", due_date="2025-03-10", amount_due="25.00")
    assert value(conn, "SELECT bank.raise_bill_due_alerts(3, '2025-03-18')") == 1
    assert value(conn, "SELECT bank.raise_bill_due_alerts(3, '2025-03-19')") == 0  # no duplicate
    assert alerts(conn) == [("bill_due", "City Power bill of 88.00 USD is due on 2025-03-20")]
    assert value(conn, "SELECT last_reminder_sent IS NOT NULL FROM bank.bills WHERE id = %s", (due_soon["id"],))
    assert value(conn, "SELECT bank.mark_overdue_bills('2025-03-18')") == 1
    assert conn.execute("SELECT id, status::text FROM bank.bills WHERE status = 'overdue'").fetchall() == [
        (late["id"], "overdue")
    ]


# Rewards ---------------------------------------------------------------------------------------


def entry(conn: psycopg.Connection, reward: dict, entry_type: str, points: int) -> None:
    insert(conn, "reward_entries", user_id=reward["user_id"], reward_id=reward["id"], entry_type=entry_type,
           points=points)


def test_the_ledger_keeps_the_balance_and_refuses_an_overdraft(conn: psycopg.Connection, user: dict) -> None:
    reward = insert(conn, "rewards", user_id=user["id"], program_name="Miles")
    entry(conn, reward, "earn", 500)
    entry(conn, reward, "redeem", 200)
    assert value(conn, "SELECT points_balance FROM bank.rewards") == 300
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        entry(conn, reward, "redeem", 301)
    assert (failure.value.sqlstate, failure.value.diag.message_primary) == (
        "BKRW1", f"cannot redeem 301 points from reward (id={reward['id']}): the balance is 300"
    )
    assert value(conn, "SELECT count(*) FROM bank.reward_entries") == 2


# Append-only and admin actions -----------------------------------------------------------------


@pytest.fixture
def clerk(conn: psycopg.Connection) -> Iterator[None]:
    """After the test's setup, act as bank_owner: it owns the tables and sees every row, and is no superuser."""
    yield
    conn.execute("RESET ROLE")


@pytest.mark.parametrize("table", ["admin_logs", "reward_entries"])
@pytest.mark.parametrize(
    "statement", ["UPDATE bank.{} SET created_at = now()", "DELETE FROM bank.{}", "TRUNCATE bank.{}"]
)
def test_ledgers_are_append_only_for_all_but_a_superuser(
    conn: psycopg.Connection, user: dict, clerk: None, table: str, statement: str
) -> None:
    reward = insert(conn, "rewards", user_id=user["id"], program_name="Miles")
    entry(conn, reward, "earn", 5)
    insert(conn, "admin_logs", admin_id=user["id"], action="verified_user")
    sql = statement.format(table).replace("created_at", "timestamp" if table == "admin_logs" else "created_at")
    conn.execute("SET ROLE bank_owner")
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        conn.execute(sql)
    operation = sql.split()[0]
    assert (failure.value.sqlstate, failure.value.diag.message_primary) == (
        "BKAO1", f"bank.{table} is append-only: {operation} refused"
    )
    conn.execute("RESET ROLE")
    conn.execute(sql)  # a superuser may (a DBA repairing the trail)


def test_deleting_an_admin_keeps_the_trail_without_the_name(conn: psycopg.Connection, user: dict, clerk: None) -> None:
    insert(conn, "admin_logs", admin_id=user["id"], action="verified_user")
    conn.execute("SET ROLE bank_owner")
    conn.execute("DELETE FROM bank.users WHERE id = %s", (user["id"],))
    assert conn.execute("SELECT admin_id, action FROM bank.admin_logs").fetchall() == [(None, "verified_user")]


def test_an_admin_action_changes_and_logs_before_and_after_together(conn: psycopg.Connection, user: dict) -> None:
    admin = make_user(conn, "admin@example.com", is_admin=True)
    log = conn.execute("SELECT * FROM bank.admin_verify_kyc(%s, %s)", (admin["id"], user["id"])).fetchone()
    assert value(conn, "SELECT kyc_status::text FROM bank.users WHERE id = %s", (user["id"],)) == "verified"
    assert log[1:6] == (admin["id"], "verified_user", "User", user["id"], {
        "before": {"kyc_status": "unverified"}, "after": {"kyc_status": "verified"},
    })
    log = conn.execute(
        "SELECT details FROM bank.admin_disable_account(%s, %s, %s, 'card reported stolen')",
        (admin["id"], user["id"], user["checking"]["id"]),
    ).fetchone()[0]
    disabled_at = value(conn, "SELECT disabled_at FROM bank.accounts WHERE id = %s", (user["checking"]["id"],))
    assert log["before"] == {"disabled_at": None}
    assert datetime.datetime.fromisoformat(log["after"]["disabled_at"]) == disabled_at
    assert log["reason"] == "card reported stolen"


def test_a_non_admin_cannot_act_and_nothing_changes(conn: psycopg.Connection, user: dict) -> None:
    impostor = make_user(conn, "impostor@example.com")
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        conn.execute("SELECT bank.admin_verify_kyc(%s, %s)", (impostor["id"], user["id"]))
    assert (failure.value.sqlstate, failure.value.diag.message_primary) == (
        "BKAD1", f"user (id={impostor['id']}) is not an admin"
    )
    assert value(conn, "SELECT kyc_status::text FROM bank.users WHERE id = %s", (user["id"],)) == "unverified"
    assert value(conn, "SELECT count(*) FROM bank.admin_logs") == 0
