"""Budget rollover: carried_in follows, to the cent and in the same statement, from the month before.

The rule (docs/stored-logic.md, Budgets): a budget passes on to the next month's budget of the
same user and category what its own `rollover` says (the earlier month decides): `none` nothing,
`surplus_only` what is left of limit + carried_in but never less than 0, `both_ways` what is left,
negative when overspent. A month without a budget breaks the chain: the month after it carries 0.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import BCRYPT, add_txn, in_parallel, insert, make_account, make_user, value

ROLLOVERS = ["none", "surplus_only", "both_ways"]
CATEGORIES = ["Groceries", "Shopping"]
D = Decimal


def carry_out(rollover: str, limit: Decimal, carried: Decimal, spent: Decimal) -> Decimal:
    """The reference of bank.budget_carry_out."""
    left = limit + carried - spent
    if rollover == "both_ways":
        return left
    if rollover == "surplus_only":
        return max(left, D(0))
    return D(0)


def expected_state(conn: psycopg.Connection, user_id: int) -> dict:
    """Each budget's (spent_amount, carried_in) computed in Python: spending from the raw
    transactions (one currency, so base_amount = amount), carried in month order from the budget of
    the month before, 0 when there is none."""
    spent: dict = {}
    for day, category, amount in conn.execute(
        "SELECT txn_date, coalesce(category, 'Other'), amount FROM bank.transactions"
        " WHERE user_id = %s AND kind = 'regular' AND txn_type = 'debit'", (user_id,),
    ).fetchall():
        key = (category, day.year, day.month)
        spent[key] = spent.get(key, D(0)) + amount
    budgets = {
        (category, year, month): (limit, rollover)
        for category, year, month, limit, rollover in conn.execute(
            "SELECT category, year, month, limit_amount, rollover FROM bank.budgets WHERE user_id = %s", (user_id,)
        ).fetchall()
    }
    state: dict = {}
    for key in sorted(budgets, key=lambda k: (k[0], k[1] * 12 + k[2])):
        category, year, month = key
        before = (category, year, month - 1) if month > 1 else (category, year - 1, 12)
        carried = D(0)
        if before in budgets:
            limit, rollover = budgets[before]
            carried = carry_out(rollover, limit, state[before][1], state[before][0])
        state[key] = (spent.get(key, D(0)), carried)
    return state


def kept_state(conn: psycopg.Connection, user_id: int) -> dict:
    return {
        (category, year, month): (spent, carried)
        for category, year, month, spent, carried in conn.execute(
            "SELECT category, year, month, spent_amount, carried_in FROM bank.budgets WHERE user_id = %s", (user_id,)
        ).fetchall()
    }


def carried(conn: psycopg.Connection, user_id: int, category: str = "Groceries") -> dict[int, Decimal]:
    """carried_in by month (2025) of one chain."""
    return dict(conn.execute(
        "SELECT month, carried_in FROM bank.budgets WHERE user_id = %s AND year = 2025 AND category = %s",
        (user_id, category),
    ).fetchall())


def budget(conn: psycopg.Connection, user_id: int, month: int, limit: str, rollover: str = "none",
           category: str = "Groceries", year: int = 2025) -> dict:
    return insert(conn, "budgets", user_id=user_id, year=year, month=month, category=category,
                  limit_amount=limit, rollover=rollover)


@pytest.fixture
def ada(conn: psycopg.Connection) -> dict:
    user = make_user(conn, "ada@example.com")
    user["account"] = make_account(conn, user["id"])
    return user


def spend(conn: psycopg.Connection, user: dict, amount: str, month: int, category: str = "Groceries") -> dict:
    return add_txn(conn, user["account"], amount, txn_date=f"2025-{month:02d}-10", category=category)


# -- the rule --------------------------------------------------------------------------------------


def test_each_setting_passes_on_what_it_says(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    spend(conn, ada, "70.00", 1)
    spend(conn, ada, "150.00", 2)
    spend(conn, ada, "10.00", 3)
    budget(conn, uid, 1, "100.00", "surplus_only")  # 100 - 70: passes 30
    budget(conn, uid, 2, "100.00", "both_ways")  # 100 + 30 - 150: passes -20, not floored at zero
    budget(conn, uid, 3, "100.00", "surplus_only")  # 100 - 20 - 10 = 70
    budget(conn, uid, 4, "100.00", "none")  # passes nothing
    budget(conn, uid, 5, "100.00")
    assert carried(conn, uid) == {1: 0, 2: D("30.00"), 3: D("-20.00"), 4: D("70.00"), 5: 0}


def test_surplus_only_passes_nothing_of_an_overspend_carried_in(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    spend(conn, ada, "180.00", 1)
    budget(conn, uid, 1, "100.00", "both_ways")  # passes -80
    budget(conn, uid, 2, "50.00", "surplus_only")  # 50 - 80 = -30 left: passes 0
    budget(conn, uid, 3, "50.00")
    assert carried(conn, uid) == {1: 0, 2: D("-80.00"), 3: 0}


def test_the_earlier_months_setting_decides_what_it_passes_on(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    budget(conn, uid, 1, "100.00", "none")
    budget(conn, uid, 2, "100.00", "both_ways")
    budget(conn, uid, 3, "100.00", "none")
    assert carried(conn, uid) == {1: 0, 2: 0, 3: D("100.00")}


def test_a_month_without_a_budget_breaks_the_chain(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    budget(conn, uid, 1, "100.00", "both_ways")
    budget(conn, uid, 3, "100.00", "both_ways")
    budget(conn, uid, 4, "100.00", "both_ways")
    assert carried(conn, uid) == {1: 0, 3: 0, 4: D("100.00")}
    # Inserted in the middle: it carries in from January, and March and April follow.
    february = budget(conn, uid, 2, "40.00", "both_ways")
    assert february["carried_in"] == D("100.00")
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D("140.00"), 4: D("240.00")}
    # Deleted again: the chain breaks at February once more.
    conn.execute("DELETE FROM bank.budgets WHERE id = %s", (february["id"],))
    assert carried(conn, uid) == {1: 0, 3: 0, 4: D("100.00")}


def test_chains_are_per_category_and_per_user(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    other = make_user(conn, "bob@example.com")["id"]
    budget(conn, uid, 1, "100.00", "both_ways")
    budget(conn, uid, 2, "100.00", category="Shopping")
    budget(conn, other, 2, "100.00")
    budget(conn, uid, 2, "100.00")
    assert carried(conn, uid) == {1: 0, 2: D("100.00")}
    assert carried(conn, uid, "Shopping") == {2: 0}
    assert carried(conn, other) == {2: 0}


def test_december_carries_into_the_next_january(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    budget(conn, uid, 12, "100.00", "surplus_only", year=2024)
    january = budget(conn, uid, 1, "100.00")
    assert january["carried_in"] == D("100.00")


def test_one_statement_creates_budgets_for_twenty_thousand_chains(conn: psycopg.Connection) -> None:
    """A chain's creations take turns by a row lock, not by a lock per chain: one statement making
    budgets for 20,000 chains (2,000 users, ten categories) ran out of PostgreSQL's shared lock
    table ("out of shared memory", 53200) while each took an advisory lock; the demo generator at
    10,000 users failed so."""
    conn.execute(
        "INSERT INTO bank.users (name, email, password) SELECT 'User ' || i, 'user' || i || '@example.com', %s"
        " FROM generate_series(1, 2000) AS i", (BCRYPT,),
    )
    for month, rollover in ((1, "both_ways"), (2, "none")):
        conn.execute(
            "INSERT INTO bank.budgets (user_id, year, month, category, limit_amount, rollover)"
            " SELECT u.id, 2025, %s, c.name, 100, %s FROM bank.users AS u"
            " CROSS JOIN (SELECT name FROM bank.category_master ) AS c", (month, rollover),
        )
    assert conn.execute(
        "SELECT month, count(*), sum(carried_in) FROM bank.budgets GROUP BY month ORDER BY month"
    ).fetchall() == [(1, 20000, D(0)), (2, 20000, D("2000000.00"))]
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


# -- changes flow forward, in the same statement --------------------------------------------------


@pytest.fixture
def chain(conn: psycopg.Connection, ada: dict) -> dict:
    """January to April, 100.00 each, all both_ways: carried 0, 100, 200, 300."""
    for month in range(1, 5):
        budget(conn, ada["id"], month, "100.00", "both_ways")
    assert carried(conn, ada["id"]) == {1: 0, 2: D("100.00"), 3: D("200.00"), 4: D("300.00")}
    return ada


def test_a_backdated_transaction_flows_through_every_later_month(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    txn = spend(conn, chain, "40.00", 1)
    assert carried(conn, uid) == {1: 0, 2: D("60.00"), 3: D("160.00"), 4: D("260.00")}
    conn.execute("UPDATE bank.transactions SET amount = 45.50 WHERE id = %s", (txn["id"],))
    assert carried(conn, uid) == {1: 0, 2: D("54.50"), 3: D("154.50"), 4: D("254.50")}
    # Moved from January to March: February carries January's whole limit again.
    conn.execute("UPDATE bank.transactions SET txn_date = '2025-03-01' WHERE id = %s", (txn["id"],))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D("200.00"), 4: D("254.50")}
    conn.execute("DELETE FROM bank.transactions WHERE id = %s", (txn["id"],))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D("200.00"), 4: D("300.00")}


def test_a_limit_changed_in_the_past_flows_forward(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    conn.execute("UPDATE bank.budgets SET limit_amount = 10.25 WHERE user_id = %s AND month = 2", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D("110.25"), 4: D("210.25")}


def test_a_rollover_changed_in_the_past_flows_forward(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    spend(conn, chain, "250.00", 2)  # February: 100 + 100 - 250 = -50
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D("-50.00"), 4: D("50.00")}
    conn.execute("UPDATE bank.budgets SET rollover = 'surplus_only' WHERE user_id = %s AND month = 2", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 3: D(0), 4: D("100.00")}
    conn.execute("UPDATE bank.budgets SET rollover = 'none' WHERE user_id = %s AND month = 1", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D(0), 3: D(0), 4: D("100.00")}


def test_a_budget_moved_to_another_month_leaves_a_gap_and_fills_one(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    conn.execute("UPDATE bank.budgets SET month = 6 WHERE user_id = %s AND month = 3", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 4: D(0), 6: D(0)}
    budget(conn, uid, 5, "100.00", "both_ways")
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 4: D(0), 5: D("100.00"), 6: D("200.00")}
    conn.execute("UPDATE bank.budgets SET category = 'Shopping' WHERE user_id = %s AND month = 5", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D("100.00"), 4: D(0), 6: D(0)}
    assert carried(conn, uid, "Shopping") == {5: D(0)}


def test_one_statement_over_several_months_of_a_chain_stays_exact(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    conn.execute(
        "INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type,"
        " txn_date) SELECT %s, %s, 'Bulk', 'Groceries', m * 10, 'USD', 'debit', make_date(2025, m, 3)"
        " FROM generate_series(4, 1, -1) AS m",
        (uid, chain["account"]["id"]),
    )
    assert carried(conn, uid) == {1: 0, 2: D("90.00"), 3: D("170.00"), 4: D("240.00")}
    conn.execute("UPDATE bank.budgets SET limit_amount = limit_amount + month WHERE user_id = %s", (uid,))
    assert carried(conn, uid) == {1: 0, 2: D("91.00"), 3: D("173.00"), 4: D("246.00")}
    assert kept_state(conn, uid) == expected_state(conn, uid)


# -- what applications see: api.budget_status and alerts ------------------------------------------


def test_budget_status_counts_against_what_is_available(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    spend(conn, ada, "130.00", 1)
    budget(conn, uid, 1, "100.00", "both_ways")
    budget(conn, uid, 2, "100.00", "both_ways")
    budget(conn, uid, 3, "50.00", "both_ways")
    spend(conn, ada, "63.00", 2)
    status = conn.execute(
        "SELECT month, limit_amount, rollover, carried_in, available, spent_amount, remaining, percent_spent, status"
        " FROM api.budget_status WHERE user_id = %s AND year = 2025 ORDER BY month", (uid,),
    ).fetchall()
    assert status == [
        (1, D("100.00"), "both_ways", 0, D("100.00"), D("130.00"), D("-30.00"), D("130.00"), "exceeded"),
        (2, D("100.00"), "both_ways", D("-30.00"), D("70.00"), D("63.00"), D("7.00"), D("90.00"), "warning"),
        (3, D("50.00"), "both_ways", D("7.00"), D("57.00"), 0, D("57.00"), D("0.00"), "ok"),
    ]
    # More overspent in January than February's limit: nothing is available in February, and no percentage.
    spend(conn, ada, "80.00", 1)
    assert conn.execute(
        "SELECT carried_in, available, remaining, percent_spent, status FROM api.budget_status"
        " WHERE user_id = %s AND year = 2025 AND month = 2", (uid,),
    ).fetchone() == (D("-110.00"), D("-10.00"), D("-73.00"), None, "exceeded")


def alerts(conn: psycopg.Connection, user_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT type::text, period, message FROM bank.alerts WHERE user_id = %s ORDER BY id", (user_id,)
    ).fetchall()


def test_alerts_use_what_is_available_and_fire_once_per_crossing(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    budget(conn, uid, 1, "100.00", "both_ways")
    budget(conn, uid, 2, "100.00")
    spend(conn, ada, "150.00", 2)  # 150 of 200 available: under the 80 % line
    assert alerts(conn, uid) == []
    spend(conn, ada, "10.00", 2)  # 160 of 200: the warning, though over the limit itself
    # A backdated overspend in January leaves February less: over what is available now.
    spend(conn, ada, "50.00", 1)
    spend(conn, ada, "1.00", 1)  # still over: nothing new
    conn.execute("UPDATE bank.budgets SET limit_amount = 110 WHERE user_id = %s AND month = 2", (uid,))  # still over
    assert [(t, p.month, m) for t, p, m in alerts(conn, uid)] == [
        ("budget_warning", 2, "Groceries budget for 2025-02 nearly used: spent 160.00 USD of 200.00 USD available"
                              " (limit 100.00 USD, carried in 100.00 USD) (80%)"),
        ("budget_exceeded", 2, "Groceries budget for 2025-02 exceeded: spent 160.00 USD of 150.00 USD available"
                               " (limit 100.00 USD, carried in 50.00 USD) (107%)"),
    ]


def test_a_budget_created_with_an_overspend_carried_in_alerts_at_once(conn: psycopg.Connection, ada: dict) -> None:
    uid = ada["id"]
    spend(conn, ada, "230.00", 1)
    budget(conn, uid, 1, "100.00", "both_ways")  # exceeded itself
    budget(conn, uid, 2, "100.00")  # nothing spent, -30.00 available
    assert [(p.month, m) for _, p, m in alerts(conn, uid)] == [
        (1, "Groceries budget for 2025-01 exceeded: spent 230.00 USD of 100.00 USD (230%)"),
        (2, "Groceries budget for 2025-02 exceeded: spent 0 USD of -30.00 USD available"
            " (limit 100.00 USD, carried in -130.00 USD)"),
    ]


# -- bad input -------------------------------------------------------------------------------------


@contextmanager
def acting(conn: psycopg.Connection, user_id: int) -> Iterator[None]:
    """As bank_app acting for user_id, in a savepoint rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL ROLE bank_app")
        conn.execute("SELECT api.set_user(%s)", (user_id,))
        yield


def test_a_rollover_not_in_the_list_is_refused_by_its_rule(conn: psycopg.Connection, ada: dict) -> None:
    row = budget(conn, ada["id"], 1, "100.00", "surplus_only")
    for statement, params in [
        ("UPDATE bank.budgets SET rollover = 'sideways' WHERE id = %s", (row["id"],)),
        ("INSERT INTO bank.budgets (user_id, year, month, category, limit_amount, rollover)"
         " VALUES (%s, 2025, 2, 'Groceries', 10, 'Both ways')", (ada["id"],)),
    ]:
        with pytest.raises(psycopg.errors.CheckViolation) as refused, conn.transaction():
            conn.execute(statement, params)
        assert refused.value.diag.constraint_name == "budgets_rollover_check"
        assert refused.value.diag.message_primary == (
            'new row for relation "budgets" violates check constraint "budgets_rollover_check"'
        )
    assert conn.execute("SELECT month, rollover FROM bank.budgets WHERE user_id = %s", (ada["id"],)).fetchall() == [
        (1, "surplus_only")
    ]


def test_an_application_sets_rollover_on_its_own_budgets_only(conn: psycopg.Connection, ada: dict) -> None:
    mallory = make_user(conn, "mallory@example.com")["id"]
    theirs = budget(conn, ada["id"], 1, "100.00")
    budget(conn, ada["id"], 2, "100.00")
    with acting(conn, mallory):
        assert conn.execute("UPDATE bank.budgets SET rollover = 'both_ways' WHERE id = %s",
                            (theirs["id"],)).rowcount == 0
        assert conn.execute("SELECT count(*) FROM api.budget_status").fetchone() == (0,)
    with acting(conn, ada["id"]):
        assert conn.execute("UPDATE bank.budgets SET rollover = 'both_ways' WHERE id = %s",
                            (theirs["id"],)).rowcount == 1
        assert value(conn, "SELECT carried_in FROM api.budget_status WHERE month = 2") == D("100.00")
    assert carried(conn, ada["id"]) == {1: 0, 2: 0}  # rolled back with the savepoint


@pytest.mark.parametrize("statement", [
    "UPDATE bank.budgets SET carried_in = 1000",
    "INSERT INTO bank.budgets (year, month, category, limit_amount, carried_in) VALUES (2025, 5, 'Groceries', 10, 1000)",
])
def test_an_application_cannot_write_carried_in(conn: psycopg.Connection, ada: dict, statement: str) -> None:
    budget(conn, ada["id"], 1, "100.00")
    with acting(conn, ada["id"]), pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    assert refused.value.diag.message_primary == "permission denied for table budgets"
    assert carried(conn, ada["id"]) == {1: 0}


# -- verify and rebuild ----------------------------------------------------------------------------


def test_verify_reports_a_wrong_carried_amount_and_rebuild_repairs_it(conn: psycopg.Connection, chain: dict) -> None:
    uid = chain["id"]
    spend(conn, chain, "30.00", 1)
    march = value(conn, "SELECT id FROM bank.budgets WHERE user_id = %s AND month = 3", (uid,))
    # Written by hand (a superuser): March is wrong against February, April follows March.
    conn.execute("UPDATE bank.budgets SET carried_in = 5 WHERE id = %s", (march,))
    assert carried(conn, uid) == {1: 0, 2: D("70.00"), 3: D(5), 4: D("105.00")}
    assert conn.execute("SELECT subject, user_id, detail, expected, actual FROM bank.verify_totals()").fetchall() == [
        ("budgets.carried_in", uid, f"budget {march}: 2025-03 Groceries", D("170.00"), D(5)),
    ]
    assert value(conn, "SELECT bank.rebuild_totals(%s)", (uid,)) == 1
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert carried(conn, uid) == {1: 0, 2: D("70.00"), 3: D("170.00"), 4: D("270.00")}


def test_rebuild_repairs_carried_amounts_when_the_triggers_did_not_run(conn: psycopg.Connection, chain: dict) -> None:
    """Every link wrong at once (the triggers off, as a restore or replica might leave them)."""
    uid = chain["id"]
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute("UPDATE bank.budgets SET carried_in = month * 7 WHERE user_id = %s", (uid,))
    conn.execute("SET LOCAL session_replication_role = origin")
    assert [row[0] for row in conn.execute("SELECT subject FROM bank.verify_totals(%s)", (uid,)).fetchall()] == [
        "budgets.carried_in"] * 4
    conn.execute("SELECT bank.rebuild_totals()")
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert kept_state(conn, uid) == expected_state(conn, uid)


# -- against a reference, over generated sequences -------------------------------------------------

MONTHS = st.integers(1, 6)
operation = st.one_of(
    st.tuples(st.just("budget"), MONTHS, st.sampled_from(CATEGORIES), st.integers(1, 30_000), st.sampled_from(ROLLOVERS)),
    st.tuples(st.just("delete_budget"), MONTHS, st.sampled_from(CATEGORIES)),
    st.tuples(st.just("limit"), MONTHS, st.sampled_from(CATEGORIES), st.integers(1, 30_000)),
    st.tuples(st.just("rollover"), MONTHS, st.sampled_from(CATEGORIES), st.sampled_from(ROLLOVERS)),
    st.tuples(st.just("move_budget"), MONTHS, st.sampled_from(CATEGORIES), MONTHS),
    st.tuples(st.just("spend"), MONTHS, st.sampled_from(CATEGORIES + [None]), st.integers(1, 30_000)),
    st.tuples(st.just("spend_many"), MONTHS, st.integers(1, 4)),
    st.tuples(st.just("amount"), st.integers(0, 99), st.integers(1, 30_000)),
    st.tuples(st.just("backdate"), st.integers(0, 99), MONTHS),
    st.tuples(st.just("category"), st.integers(0, 99), st.sampled_from(CATEGORIES)),
    st.tuples(st.just("delete"), st.integers(0, 99)),
)


def cents(n: int) -> str:
    return str(D(n).scaleb(-2))


def apply(conn: psycopg.Connection, user: dict, op: tuple) -> None:
    uid = user["id"]
    name = op[0]
    where = "user_id = %s AND year = 2025 AND month = %s AND category = %s"
    if name == "budget":
        _, month, category, limit, rollover = op
        conn.execute(
            "INSERT INTO bank.budgets (user_id, year, month, category, limit_amount, rollover)"
            " VALUES (%s, 2025, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (uid, month, category, cents(limit), rollover),
        )
    elif name == "delete_budget":
        conn.execute(f"DELETE FROM bank.budgets WHERE {where}", (uid, op[1], op[2]))
    elif name == "limit":
        conn.execute(f"UPDATE bank.budgets SET limit_amount = %s WHERE {where}", (cents(op[3]), uid, op[1], op[2]))
    elif name == "rollover":
        conn.execute(f"UPDATE bank.budgets SET rollover = %s WHERE {where}", (op[3], uid, op[1], op[2]))
    elif name == "move_budget":
        _, month, category, to = op
        if not conn.execute(f"SELECT FROM bank.budgets WHERE {where}", (uid, to, category)).fetchall():
            conn.execute(f"UPDATE bank.budgets SET month = %s WHERE {where}", (to, uid, month, category))
    elif name == "spend":
        _, month, category, amount = op
        add_txn(conn, user["account"], cents(amount), txn_date=f"2025-{month:02d}-15", category=category)
    elif name == "spend_many":  # one statement over several months, both categories
        _, month, n = op
        conn.execute(
            "INSERT INTO bank.transactions (user_id, account_id, description, category, amount, currency, txn_type,"
            " txn_date) SELECT %s, %s, 'Bulk', (ARRAY['Groceries', 'Shopping'])[1 + g %% 2], g * 13.37, 'USD',"
            " 'debit', make_date(2025, 1 + (%s + g) %% 6, 2) FROM generate_series(1, %s) AS g",
            (uid, user["account"]["id"], month, n),
        )
    else:
        ids = [r[0] for r in conn.execute("SELECT id FROM bank.transactions WHERE user_id = %s ORDER BY id",
                                          (uid,)).fetchall()]
        if not ids:
            return
        txn = ids[op[1] % len(ids)]
        if name == "amount":
            conn.execute("UPDATE bank.transactions SET amount = %s WHERE id = %s", (cents(op[2]), txn))
        elif name == "backdate":  # to another month's partition, usually
            conn.execute("UPDATE bank.transactions SET txn_date = make_date(2025, %s, 20) WHERE id = %s", (op[2], txn))
        elif name == "category":
            conn.execute("UPDATE bank.transactions SET category = %s WHERE id = %s", (op[2], txn))
        else:
            conn.execute("DELETE FROM bank.transactions WHERE id = %s", (txn,))


# The budgets an example starts with: one per category and month (January to June), or a gap.
starting_budgets = st.lists(
    st.one_of(st.none(), st.tuples(st.sampled_from(ROLLOVERS), st.integers(1, 30_000))),
    min_size=2 * 6, max_size=2 * 6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=starting_budgets, ops=st.lists(operation, min_size=1, max_size=30))
def test_carried_amounts_equal_a_reference_after_every_statement(
    conn: psycopg.Connection, ada: dict, start: list, ops: list[tuple]
) -> None:
    with conn.transaction(force_rollback=True):
        for i, chosen in enumerate(start):
            if chosen is not None:
                apply(conn, ada, ("budget", i % 6 + 1, CATEGORIES[i // 6], chosen[1], chosen[0]))
        for op in ops:
            apply(conn, ada, op)
            assert kept_state(conn, ada["id"]) == expected_state(conn, ada["id"]), op
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


# -- concurrency -----------------------------------------------------------------------------------


def test_writers_of_different_months_of_one_chain_neither_deadlock_nor_lose_an_update(db: str) -> None:
    """Six sessions, each writing its own month of one chain (its transactions, limit and rollover), one
    statement per transaction as applications do: every change flows through the later months, which
    the other sessions write at the same time."""
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "chain@example.com")
        user["account"] = make_account(conn, user["id"])
        for month in range(1, 7):
            budget(conn, user["id"], month, "100.00", "both_ways" if month % 3 else "surplus_only")
    start = threading.Barrier(6)

    def writer(month: int) -> None:
        rng = random.Random(month)
        with psycopg.connect(db, autocommit=True) as mine:
            start.wait()
            for _ in range(30):
                action = rng.choice(["spend", "spend", "delete", "limit", "rollover"])
                if action == "spend":
                    spend(mine, user, cents(rng.randint(1, 9_000)), month)
                elif action == "delete":
                    mine.execute(
                        "DELETE FROM bank.transactions WHERE id = (SELECT id FROM bank.transactions WHERE user_id = %s"
                        " AND txn_date >= make_date(2025, %s, 1) AND txn_date < make_date(2025, %s, 1) + interval '1 month'"
                        " ORDER BY random() LIMIT 1)", (user["id"], month, month),
                    )
                elif action == "limit":
                    mine.execute("UPDATE bank.budgets SET limit_amount = %s WHERE user_id = %s AND month = %s",
                                 (cents(rng.randint(1, 20_000)), user["id"], month))
                else:
                    mine.execute("UPDATE bank.budgets SET rollover = %s WHERE user_id = %s AND month = %s",
                                 (rng.choice(ROLLOVERS), user["id"], month))

    assert in_parallel(writer, range(1, 7)) == []
    with psycopg.connect(db) as conn:
        assert kept_state(conn, user["id"]) == expected_state(conn, user["id"])
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def wait_until_blocked(conn: psycopg.Connection, pid: int) -> None:
    """Until session pid waits for a lock (polled; the test asserts what happens after, not when)."""
    for _ in range(600):
        if value(conn, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)):
            return
        time.sleep(0.05)
    raise AssertionError(f"session {pid} never waited for a lock")


@pytest.fixture
def open_chain(db: str) -> Iterator[tuple[str, int]]:
    """January and February both_ways (100.00 each, nothing spent), committed."""
    with psycopg.connect(db, autocommit=True) as conn:
        uid = make_user(conn, "open@example.com")["id"]
        budget(conn, uid, 1, "100.00", "both_ways")
        budget(conn, uid, 2, "100.00", "both_ways")
    yield db, uid


def race(db: str, first: str, second: str, params: tuple | dict) -> None:
    """first runs and holds its transaction open; second starts and must wait; first commits, then second."""
    with psycopg.connect(db) as one, psycopg.connect(db) as two, psycopg.connect(db, autocommit=True) as watch:
        one.execute(first, params)
        errors: list[BaseException] = []

        def run_second() -> None:
            try:
                two.execute(second, params)
                two.commit()
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)

        thread = threading.Thread(target=run_second)
        thread.start()
        wait_until_blocked(watch, two.info.backend_pid)
        one.commit()
        thread.join()
        assert errors == []


INSERT_BUDGET = ("INSERT INTO bank.budgets (user_id, year, month, category, limit_amount, rollover)"
                 " VALUES (%s, 2025, {}, 'Groceries', 100, 'both_ways')")
RAISE_FEBRUARY = "UPDATE bank.budgets SET limit_amount = 130 WHERE user_id = %s AND month = 2"


@pytest.mark.parametrize(("first", "second", "april"), [
    # Two budgets created at once in adjacent months: the second waits for the chain's lock, then
    # reads the first (without it each would miss the other, and April would carry 0).
    (INSERT_BUDGET.format(3), INSERT_BUDGET.format(4), D("300.00")),
    (INSERT_BUDGET.format(4), INSERT_BUDGET.format(3), D("300.00")),
    # A limit changed in February while March is created: March waits for February's row, then
    # reads it; or February's carry forward waits for March's read of it, then updates March.
    (RAISE_FEBRUARY, INSERT_BUDGET.format(3), D("330.00")),
    (INSERT_BUDGET.format(3), RAISE_FEBRUARY, D("330.00")),
], ids=["march-then-april", "april-then-march", "february-then-new-march", "new-march-then-february"])
def test_concurrent_writes_to_one_chain_lose_no_update(
    open_chain: tuple[str, int], first: str, second: str, april: Decimal
) -> None:
    db, uid = open_chain
    if RAISE_FEBRUARY in (first, second):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(INSERT_BUDGET.format(4), (uid,))
    race(db, first, second, (uid,))
    with psycopg.connect(db) as conn:
        assert carried(conn, uid)[4] == april
        assert kept_state(conn, uid) == expected_state(conn, uid)
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


# -- has_budget: inserts update budgets only through the totals rows a budget counts -----------------

INSERT_GROCERIES = ("INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type,"
                    " txn_date, category) VALUES (%(user)s, %(account)s, 'Market', 42.50, 'USD', 'debit', '2025-03-10', 'Groceries')")
CREATE_MARCH = ("INSERT INTO bank.budgets (user_id, year, month, category, limit_amount)"
                " VALUES (%(user)s, 2025, 3, 'Groceries', 100)")


@pytest.mark.parametrize("budget_first", [True, False], ids=["budget-then-insert", "insert-then-budget"])
def test_a_budget_created_while_an_insert_runs_counts_it(db: str, budget_first: bool) -> None:
    """The budget's trigger flags the totals row (has_budget) under the row's lock: an insert waiting
    for that lock reads the flag as committed and updates the budget; a budget waiting for an
    insert's lock starts with its spending. Either way the budget counts the 42.50."""
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "race@example.com")
        account = make_account(conn, user["id"])
    params = {"user": user["id"], "account": account["id"]}
    first, second = (CREATE_MARCH, INSERT_GROCERIES) if budget_first else (INSERT_GROCERIES, CREATE_MARCH)
    race(db, first, second, params)
    with psycopg.connect(db) as conn:
        assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE user_id = %s", (user["id"],)) == D("42.50")
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_verify_reports_a_budgets_totals_row_without_has_budget_and_rebuild_mends_it(
    conn: psycopg.Connection, ada: dict
) -> None:
    """Without the flag an insert would leave the budget behind: verify names the budget, rebuild
    sets the flag again (and keeps the row of a budget's month without transactions)."""
    march = budget(conn, ada["id"], 3, "100.00")
    conn.execute("UPDATE bank.monthly_totals SET has_budget = FALSE WHERE user_id = %s", (ada["id"],))
    assert conn.execute("SELECT subject, detail, expected, actual FROM bank.verify_totals()").fetchall() == [
        ("monthly_totals.has_budget", f"budget {march['id']}: 2025-03 Groceries", 1, 0),
    ]
    spend(conn, ada, "10.00", 3)
    assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE id = %s", (march["id"],)) == D("0.00")
    value(conn, "SELECT bank.rebuild_totals(%s)", (ada["id"],))
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    spend(conn, ada, "5.00", 3)
    assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE id = %s", (march["id"],)) == D("15.00")
    april = budget(conn, ada["id"], 4, "100.00")
    conn.execute("DELETE FROM bank.monthly_totals WHERE user_id = %s AND month = '2025-04-01'", (ada["id"],))
    value(conn, "SELECT bank.rebuild_totals(%s)", (ada["id"],))
    assert conn.execute(
        "SELECT spending, txn_count, has_budget FROM bank.monthly_totals WHERE user_id = %s AND month = '2025-04-01'",
        (ada["id"],),
    ).fetchall() == [(D(0), 0, True)]
    spend(conn, ada, "7.00", 4)
    assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE id = %s", (april["id"],)) == D("7.00")


def test_cash_flow_shows_no_month_that_has_only_budgets(conn: psycopg.Connection, ada: dict) -> None:
    """A budget's triggers make totals rows (its month's, and the month before's) before any
    transaction: api.cash_flow leaves such months out, and shows a month once it has spending."""
    budget(conn, ada["id"], 3, "100.00")
    assert conn.execute("SELECT month FROM api.cash_flow WHERE user_id = %s", (ada["id"],)).fetchall() == []
    spend(conn, ada, "12.50", 3)
    assert conn.execute(
        "SELECT month, income, spending, net FROM api.cash_flow WHERE user_id = %s", (ada["id"],)
    ).fetchall() == [(dt.date(2025, 3, 1), D(0), D("12.50"), D("-12.50"))]
