"""Categorization rules against concurrent writers: two sessions of bank_app acting for one user, the
interleaving forced by holding a lock (docs/benchmark/soak.md, findings 1 and 2).

- A rule deleted by a transaction not yet committed while another writes a row it matches: the
  writer waits for the rule (bank.matching_rule locks it FOR KEY SHARE) and, once the delete has
  committed, takes the next matching rule by priority, or none; it never fails on the foreign key.
- The same for an import (api.import_transactions), and for api.apply_category_rules.
- A rule being chosen cannot be deleted before the writer commits.
- api.apply_category_rules leaves alone a category set by hand meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
from psycopg.types.json import Jsonb
import pytest

from ..helpers import add_txn, insert, make_account, make_user, value

MARKET = "Corner market"  # matched by both rules below


@pytest.fixture
def world(db: str) -> dict:
    """A user with a checking account and two rules matching MARKET: Groceries (priority 5, the
    first) and Shopping (priority 1), committed."""
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "user@example.com")
        account = make_account(conn, user["id"])
        first = insert(conn, "category_rules", user_id=user["id"], category="Groceries", keyword_pattern="market",
                       priority=5)
        second = insert(conn, "category_rules", user_id=user["id"], category="Shopping", keyword_pattern="^corner",
                        priority=1)
        return {"user": user["id"], "account": account, "first": first["id"], "second": second["id"]}


def session(db: str, user: int) -> psycopg.Connection:
    """A transaction of bank_app acting for the user (row-level security applies)."""
    conn = psycopg.connect(db)
    conn.execute("SET ROLE bank_app")
    conn.execute("SELECT api.set_user(%s)", (user,))
    return conn


@pytest.fixture
def sessions(db: str, world: dict) -> Iterator[tuple[psycopg.Connection, psycopg.Connection, psycopg.Connection]]:
    """Two sessions acting for the user, and a superuser watcher in autocommit."""
    with session(db, world["user"]) as a, session(db, world["user"]) as b, \
            psycopg.connect(db, autocommit=True) as watcher:
        yield a, b, watcher


def wait_until_blocked(watcher: psycopg.Connection, pid: int) -> None:
    for _ in range(500):
        if value(watcher, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)):
            return
        time.sleep(0.01)
    raise AssertionError(f"session {pid} never waited for a lock")


class Blocked:
    """Runs work(conn) in a thread, which must wait for a lock; join() returns what it returned,
    or raises what it raised."""

    def __init__(self, conn: psycopg.Connection, watcher: psycopg.Connection,
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
        wait_until_blocked(watcher, conn.info.backend_pid)

    def join(self) -> object:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the blocked session never went on"
        if self.error is not None:
            raise self.error
        return self.result


def insert_market(conn: psycopg.Connection, account: dict) -> tuple:
    row = conn.execute(
        "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
        " VALUES (%s, %s, 9.99, 'USD', 'debit', '2025-03-05') RETURNING id, category, category_rule_id",
        (account["id"], MARKET),
    ).fetchone()
    conn.commit()
    return row


def rows(watcher: psycopg.Connection) -> list[tuple]:
    return watcher.execute(
        "SELECT description, category, category_rule_id FROM bank.transactions ORDER BY id"
    ).fetchall()


def test_an_insert_waits_for_a_rule_being_deleted_and_takes_the_next_one(sessions, world: dict) -> None:
    writer, deleter, watcher = sessions
    deleter.execute("DELETE FROM bank.category_rules WHERE id = %s", (world["first"],))
    insert_ = Blocked(writer, watcher, lambda conn: insert_market(conn, world["account"]))
    deleter.commit()
    _, category, rule_id = insert_.join()  # no 23503 transactions_user_id_category_rule_id_fkey
    assert (category, rule_id) == ("Shopping", world["second"])
    assert rows(watcher) == [(MARKET, "Shopping", world["second"])]
    assert watcher.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert watcher.execute("SELECT category, spending::text FROM bank.monthly_totals").fetchall() == [
        ("Shopping", "9.99")]


def test_an_insert_whose_only_rule_is_deleted_meanwhile_stays_uncategorized(sessions, world: dict) -> None:
    writer, deleter, watcher = sessions
    deleter.execute("DELETE FROM bank.category_rules WHERE id IN (%s, %s)", (world["first"], world["second"]))
    insert_ = Blocked(writer, watcher, lambda conn: insert_market(conn, world["account"]))
    deleter.commit()
    _, category, rule_id = insert_.join()
    assert (category, rule_id) == (None, None)
    assert rows(watcher) == [(MARKET, None, None)]
    assert value(watcher, "SELECT is_categorized FROM bank.transactions") is False


def test_a_rule_delete_rolled_back_leaves_the_insert_its_rule(sessions, world: dict) -> None:
    writer, deleter, watcher = sessions
    deleter.execute("DELETE FROM bank.category_rules WHERE id = %s", (world["first"],))
    insert_ = Blocked(writer, watcher, lambda conn: insert_market(conn, world["account"]))
    deleter.rollback()
    assert insert_.join()[1:] == ("Groceries", world["first"])


def test_a_rule_chosen_by_an_uncommitted_insert_is_deleted_only_after_it_commits(sessions, world: dict) -> None:
    writer, deleter, watcher = sessions
    writer.execute(
        "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
        " VALUES (%s, %s, 9.99, 'USD', 'debit', '2025-03-05')", (world["account"]["id"], MARKET),
    )

    def delete(conn: psycopg.Connection) -> int:
        count = conn.execute("DELETE FROM bank.category_rules WHERE id = %s", (world["first"],)).rowcount
        conn.commit()
        return count

    delete_ = Blocked(deleter, watcher, delete)  # the rule's KEY SHARE lock holds the delete
    writer.commit()
    assert delete_.join() == 1
    # ON DELETE SET NULL (category_rule_id): the category the rule set stays, without its rule.
    assert rows(watcher) == [(MARKET, "Groceries", None)]


def test_apply_category_rules_waits_for_a_rule_being_deleted_and_takes_the_next_one(sessions, world: dict,
                                                                                   db: str) -> None:
    applier, deleter, watcher = sessions
    with psycopg.connect(db, autocommit=True) as owner:  # uncategorized: given before the rules
        owner.execute("UPDATE bank.category_rules SET is_active = false")
        first = add_txn(owner, world["account"], "9.99", description=MARKET)["id"]
        add_txn(owner, world["account"], "1.50", description="Corner kiosk")  # the second rule only
        owner.execute("UPDATE bank.category_rules SET is_active = true")
    deleter.execute("DELETE FROM bank.category_rules WHERE id = %s", (world["first"],))

    def apply(conn: psycopg.Connection) -> int:
        count = value(conn, "SELECT api.apply_category_rules()")
        conn.commit()
        return count

    apply_ = Blocked(applier, watcher, apply)
    deleter.commit()
    assert apply_.join() == 2
    assert rows(watcher) == [(MARKET, "Shopping", world["second"]), ("Corner kiosk", "Shopping", world["second"])]
    assert value(watcher, "SELECT id FROM bank.transactions WHERE description = %s", (MARKET,)) == first
    assert watcher.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_apply_category_rules_keeps_a_category_set_by_hand_meanwhile(sessions, world: dict, db: str) -> None:
    hand, applier, watcher = sessions
    with psycopg.connect(db, autocommit=True) as owner:  # two rows left without a category
        owner.execute("UPDATE bank.category_rules SET is_active = false")
        racing = add_txn(owner, world["account"], "9.99", description=MARKET)["id"]
        add_txn(owner, world["account"], "4.00", description="Market stall")
        owner.execute("UPDATE bank.category_rules SET is_active = true")
    hand.execute("UPDATE bank.transactions SET category = 'Healthcare' WHERE id = %s", (racing,))

    def apply(conn: psycopg.Connection) -> int:
        return value(conn, "SELECT api.apply_category_rules()")

    apply_ = Blocked(applier, watcher, apply)  # its snapshot sees the row uncategorized; it waits for the row
    hand.commit()
    assert apply_.join() == 1  # the other row only
    applier.commit()
    assert rows(watcher) == [(MARKET, "Healthcare", None), ("Market stall", "Groceries", world["first"])]
    assert watcher.execute(
        "SELECT category, spending::text FROM bank.monthly_totals WHERE txn_count > 0 ORDER BY category"
    ).fetchall() == [("Groceries", "4.00"), ("Healthcare", "9.99")]
    assert watcher.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_an_import_waits_for_a_rule_being_deleted_and_takes_the_next_one(sessions, world: dict) -> None:
    """api.import_transactions chooses each rule with bank.matching_rule too."""
    importer, deleter, watcher = sessions
    deleter.execute("DELETE FROM bank.category_rules WHERE id = %s", (world["first"],))
    rows_ = [{"txn_date": "2025-03-05", "amount": "-9.99", "description": MARKET},
             {"txn_date": "2025-03-06", "amount": "-2.00", "description": "Market stall"}]

    def import_(conn: psycopg.Connection) -> tuple:
        counts = conn.execute("SELECT inserted_count, rejected_count FROM api.import_transactions(%s, %s, 'race.json')",
                              (world["account"]["id"], Jsonb(rows_))).fetchone()
        conn.commit()
        return counts

    batch = Blocked(importer, watcher, import_)
    deleter.commit()
    assert batch.join() == (2, 0)  # no 23503 (user_id, category_rule_id)=(..., first)
    assert rows(watcher) == [(MARKET, "Shopping", world["second"]), ("Market stall", None, None)]
    assert watcher.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
