"""Concurrent writers on a distributed database (issue 14).

The demo data, distributed. Several sessions at once, each a thread with its own connection as
bank_app acting for a user, each write its own transaction as an application's is: two sessions
for one user writing one month and category (its totals, budget and daily flows rows shared), the
same for a user on the other worker, a third user, and a session per user linking and unlinking
transfers; inserts, updates of amount and date (to another month), deletes, transfers. Then no
session got an error (no deadlock, 40P01), every row a session committed is there as it left it,
`bank.verify_totals()` is empty, and the monthly totals and budgets equal a recomputation from the
raw rows.

Then the rule races of tests/functions/test_rule_races.py on the Citus rendering: two sessions, the
interleaving forced by a lock held (the waiting session is seen waiting on the worker).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from .conftest import Cluster
from .data import distributed_database, load_demo

# The demo users: Ada (USD; accounts 2 savings, 3 checking), Bruno (EUR; 4 investment, 5 checking),
# Chiyo (JPY; 6 checking). Ada's and Bruno's rows are on different workers.
ADA, BRUNO, CHIYO = 1, 2, 3
OPS = 60  # writes per session


@pytest.fixture(scope="module")
def distributed(cluster: Cluster) -> Iterator[str]:
    with distributed_database(cluster, load_demo) as conninfo:
        yield conninfo


@pytest.fixture(scope="module")
def this_month(distributed: str) -> date:
    with psycopg.connect(distributed) as conn:
        return conn.execute("SELECT date_trunc('month', current_date)::date").fetchone()[0]


def app(conninfo: str) -> psycopg.Connection:
    conn = psycopg.connect(conninfo)
    conn.execute("SET ROLE bank_app")
    conn.commit()
    return conn


@dataclass
class Writer:
    """One session's writes, and what it committed: description -> (amount, date, kind) of its rows
    that are there (kinds other than regular are the transfers' legs)."""

    name: str
    user: int
    account: int
    currency: str
    category: str | None
    rows: dict[str, tuple[Decimal, date, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def transact(conn: psycopg.Connection, user: int, work: Callable[[psycopg.Connection], object]) -> object:
    """One transaction acting for the user: api.set_user, work, COMMIT."""
    try:
        conn.execute("SELECT api.set_user(%s)", (user,))
        result = work(conn)
        conn.commit()
        return result
    except BaseException:
        conn.rollback()
        raise


def run_writer(conninfo: str, w: Writer, month: date, start: threading.Barrier, seed_: int) -> None:
    """Single-statement writes of one month and category: insert, update the amount, move to the
    next month and back, delete; each on a row of this session (the totals rows are shared)."""
    rng = random.Random(seed_)
    with app(conninfo) as conn:
        start.wait()
        for n in range(OPS):
            action = rng.choice(["insert", "insert", "update", "move", "delete"]) if w.rows else "insert"
            try:
                if action == "insert":
                    desc, amount = f"{w.name} {n}", Decimal(rng.randint(1, 9999)) / (1 if w.currency == "JPY" else 100)
                    day = month + timedelta(rng.randint(0, 9))
                    transact(conn, w.user, lambda c: c.execute(
                        "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type,"
                        " txn_date, category) VALUES (%s, %s, %s, %s, 'debit', %s, %s)",
                        (w.account, desc, amount, w.currency, day, w.category)))
                    w.rows[desc] = (amount, day, "regular")
                    continue
                desc = rng.choice(sorted(w.rows))
                amount, day, kind = w.rows[desc]
                if action == "update":
                    count = transact(conn, w.user, lambda c: c.execute(
                        "UPDATE bank.transactions SET amount = amount + 1 WHERE user_id = %s AND description = %s",
                        (w.user, desc)).rowcount)
                    w.rows[desc] = (amount + 1, day, kind)
                elif action == "move":  # to the next month's partition, or back
                    moved = day - timedelta(days=31) if day.month != month.month else day + timedelta(days=31)
                    count = transact(conn, w.user, lambda c: c.execute(
                        "UPDATE bank.transactions SET txn_date = %s WHERE user_id = %s AND description = %s",
                        (moved, w.user, desc)).rowcount)
                    w.rows[desc] = (amount, moved, kind)
                else:
                    count = transact(conn, w.user, lambda c: c.execute(
                        "DELETE FROM bank.transactions WHERE user_id = %s AND description = %s",
                        (w.user, desc)).rowcount)
                    del w.rows[desc]
                if count != 1:
                    w.errors.append(f"{action} of {desc!r} changed {count} rows")
            except psycopg.Error as exc:
                w.errors.append(f"{action}: {exc.sqlstate} {exc}")


def run_transfers(conninfo: str, w: Writer, other_account: int, month: date, start: threading.Barrier,
                  seed_: int) -> None:
    """Transfers between two accounts of the user: both legs in one INSERT and api.link_transfer in
    one transaction (two statements), and now and then api.unlink_transfer of an earlier one."""
    rng = random.Random(seed_)
    linked: list[tuple[int, str, str]] = []
    with app(conninfo) as conn:
        start.wait()
        for n in range(OPS // 2):
            try:
                if linked and rng.random() < 0.3:
                    transfer, debit, credit = linked.pop(rng.randrange(len(linked)))
                    unlinked = transact(conn, w.user, lambda c: c.execute(
                        "SELECT api.unlink_transfer(%s)", (transfer,)).fetchone()[0])
                    if unlinked != 2:
                        w.errors.append(f"unlink_transfer({transfer}) unlinked {unlinked}")
                    for desc in (debit, credit):
                        amount, day, _ = w.rows[desc]
                        w.rows[desc] = (amount, day, "regular")
                    continue
                debit, credit = f"{w.name} {n} out", f"{w.name} {n} in"
                amount, day = Decimal(rng.randint(100, 50000)) / 100, month + timedelta(rng.randint(10, 19))

                def transfer(c: psycopg.Connection) -> int:
                    ids = c.execute(
                        "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                        " VALUES (%s, %s, %s, %s, 'debit', %s), (%s, %s, %s, %s, 'credit', %s) RETURNING id",
                        (w.account, debit, amount, w.currency, day, other_account, credit, amount, w.currency, day),
                    ).fetchall()
                    return c.execute("SELECT api.link_transfer(%s, %s)", (ids[0][0], ids[1][0])).fetchone()[0]

                linked.append((transact(conn, w.user, transfer), debit, credit))
                w.rows[debit] = w.rows[credit] = (amount, day, "transfer")
            except psycopg.Error as exc:
                w.errors.append(f"transfer: {exc.sqlstate} {exc}")


def test_concurrent_writers_on_both_workers_stay_exact(distributed: str, this_month: date) -> None:
    with psycopg.connect(distributed, autocommit=True) as conn:  # budgets on the rows the sessions share
        for user in (ADA, BRUNO):
            conn.execute("INSERT INTO bank.budgets (user_id, year, month, category, limit_amount) VALUES"
                         " (%s, %s, %s, 'Groceries', 100000) ON CONFLICT DO NOTHING",
                         (user, this_month.year, this_month.month))
    writers = [
        Writer("cc ada a", ADA, 3, "USD", "Groceries"),
        Writer("cc ada b", ADA, 3, "USD", "Groceries"),
        Writer("cc bruno a", BRUNO, 5, "EUR", "Groceries"),
        Writer("cc bruno b", BRUNO, 5, "EUR", "Groceries"),
        Writer("cc chiyo", CHIYO, 6, "JPY", "Shopping"),
    ]
    transfers = [Writer("cc ada t", ADA, 3, "USD", None), Writer("cc bruno t", BRUNO, 5, "EUR", None)]
    start = threading.Barrier(len(writers) + len(transfers))
    threads = [threading.Thread(target=run_writer, args=(distributed, w, this_month, start, i))
               for i, w in enumerate(writers)]
    threads += [threading.Thread(target=run_transfers, args=(distributed, w, other, this_month, start, 100 + i))
                for i, (w, other) in enumerate(zip(transfers, (2, 4)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a session never finished"
    assert [e for w in writers + transfers for e in w.errors] == []

    with psycopg.connect(distributed) as conn:
        # Every session's rows are there as it left them, and no other row of theirs.
        there = {desc: (amount, day, kind) for desc, amount, day, kind in conn.execute(
            "SELECT description, amount, txn_date, kind::text FROM bank.transactions WHERE description LIKE 'cc %'")}
        expected = {desc: row for w in writers + transfers for desc, row in w.rows.items()}
        assert there == expected
        assert sum(1 for _, _, kind in there.values() if kind == "transfer") >= 4
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        for user in (ADA, BRUNO, CHIYO):
            assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (user,)).fetchall() == []
        # The totals, recomputed from the raw rows here (regular rows only, uncategorized as Other).
        recomputed = conn.execute(
            "SELECT user_id, date_trunc('month', txn_date)::date, coalesce(category, 'Other'),"
            " sum(base_amount) FILTER (WHERE txn_type = 'debit'), sum(base_amount) FILTER (WHERE txn_type = 'credit'),"
            " count(*) FROM bank.transactions WHERE kind = 'regular' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").fetchall()
        held = conn.execute(
            "SELECT user_id, month, category, nullif(spending, 0), nullif(income, 0), txn_count"
            " FROM bank.monthly_totals WHERE txn_count > 0 ORDER BY 1, 2, 3").fetchall()
        assert held == recomputed
        groceries = {user: next((r[3] for r in recomputed if r[:3] == (user, this_month, "Groceries")), None)
                     for user in (ADA, BRUNO)}
        assert dict(conn.execute(
            "SELECT user_id, spent_amount FROM bank.budgets WHERE user_id IN (%s, %s) AND category = 'Groceries'"
            " AND year = %s AND month = %s", (ADA, BRUNO, this_month.year, this_month.month)).fetchall()) == groceries
        assert all(groceries.values())


# -- the rule races, on the Citus rendering -------------------------------------------------------


def wait_until_blocked(cluster: Cluster, conninfo: str) -> None:
    """Until a backend of this database waits for a lock on a worker (where the shards are)."""
    dbname = conninfo_to_dict(conninfo)["dbname"]
    watchers = [psycopg.connect(cluster.conninfo(dbname, node), autocommit=True) for node in cluster.workers]
    try:
        for _ in range(1000):
            for watcher in watchers:
                if watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                   " AND wait_event_type = 'Lock'").fetchone()[0]:
                    return
            time.sleep(0.01)
    finally:
        for watcher in watchers:
            watcher.close()
    raise AssertionError("no session waited for a lock")


class Blocked:
    """work(conn) in a thread, which must wait for a lock; join() returns its result or raises."""

    def __init__(self, cluster: Cluster, conninfo: str, conn: psycopg.Connection,
                 work: Callable[[psycopg.Connection], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = work(conn)
            except BaseException as exc:  # noqa: BLE001 - raised again by join()
                self.error = exc

        self.thread = threading.Thread(target=run)
        self.thread.start()
        wait_until_blocked(cluster, conninfo)

    def join(self) -> object:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the blocked session never went on"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def rules(distributed: str) -> Iterator[tuple[int, int]]:
    """Chiyo's two rules matching 'Race market': Groceries (priority 5) and Shopping (priority 1); her
    rows of the test and the rules are removed after."""
    with psycopg.connect(distributed, autocommit=True) as conn:
        first, second = (conn.execute(
            "INSERT INTO bank.category_rules (user_id, category, keyword_pattern, priority) VALUES (%s, %s, %s, %s)"
            " RETURNING id", (CHIYO, category, pattern, priority)).fetchone()[0]
            for category, pattern, priority in (("Groceries", "market", 5), ("Shopping", "^race", 1)))
        yield first, second
        conn.execute("DELETE FROM bank.transactions WHERE user_id = %s AND description LIKE 'Race %%'", (CHIYO,))
        conn.execute("DELETE FROM bank.category_rules WHERE user_id = %s AND id IN (%s, %s)", (CHIYO, first, second))


def race_rows(conninfo: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT description, category, category_rule_id FROM bank.transactions WHERE user_id = %s"
            " AND description LIKE 'Race %%' ORDER BY id", (CHIYO,)).fetchall()


def test_an_insert_waits_for_a_rule_being_deleted_and_takes_the_next_one(
        cluster: Cluster, distributed: str, this_month: date, rules: tuple[int, int]) -> None:
    first, second = rules
    with app(distributed) as writer, app(distributed) as deleter:
        deleter.execute("SELECT api.set_user(%s)", (CHIYO,))
        deleter.execute("DELETE FROM bank.category_rules WHERE user_id = %s AND id = %s", (CHIYO, first))

        def insert(conn: psycopg.Connection) -> tuple:
            return transact(conn, CHIYO, lambda c: c.execute(
                "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                " VALUES (6, 'Race market', 500, 'JPY', 'debit', %s) RETURNING category, category_rule_id",
                (this_month,)).fetchone())

        insert_ = Blocked(cluster, distributed, writer, insert)
        deleter.commit()
        assert insert_.join() == ("Shopping", second)  # no 23503 transactions_user_id_category_rule_id_fkey
    assert race_rows(distributed) == [("Race market", "Shopping", second)]
    with psycopg.connect(distributed) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (CHIYO,)).fetchall() == []


def test_apply_category_rules_keeps_a_category_set_by_hand_meanwhile(
        cluster: Cluster, distributed: str, this_month: date, rules: tuple[int, int]) -> None:
    first, _ = rules
    with psycopg.connect(distributed, autocommit=True) as conn:  # two rows left without a category
        conn.execute("UPDATE bank.category_rules SET is_active = false WHERE user_id = %s AND id IN (%s, %s)",
                     (CHIYO, *rules))
        racing = conn.execute(
            "INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date)"
            " VALUES (%s, 6, 'Race market', 500, 'JPY', 'debit', %s), (%s, 6, 'Race stall market', 300, 'JPY', 'debit',"
            " %s) RETURNING id", (CHIYO, this_month, CHIYO, this_month)).fetchall()[0][0]
        conn.execute("UPDATE bank.category_rules SET is_active = true WHERE user_id = %s AND id IN (%s, %s)",
                     (CHIYO, *rules))
    with app(distributed) as hand, app(distributed) as applier:
        hand.execute("SELECT api.set_user(%s)", (CHIYO,))
        hand.execute("UPDATE bank.transactions SET category = 'Healthcare' WHERE user_id = %s AND id = %s",
                     (CHIYO, racing))
        apply_ = Blocked(cluster, distributed, applier,
                         lambda conn: transact(conn, CHIYO, lambda c: c.execute(
                             "SELECT api.apply_category_rules()").fetchone()[0]))
        hand.commit()
        assert apply_.join() == 1  # the other row only
    assert race_rows(distributed) == [("Race market", "Healthcare", None), ("Race stall market", "Groceries", first)]
    with psycopg.connect(distributed) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (CHIYO,)).fetchall() == []
