"""The import and a rule deleted at the same time, in two sessions.

api.import_transactions locks the rules it chose (FOR KEY SHARE) before it writes: a rule another
transaction deletes meanwhile is waited for, found gone, and the rules are chosen again without it.
Without the lock, the INSERT's foreign key to the rule failed (23503) once the delete committed.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.types.json import Jsonb

from ..helpers import insert, make_account, make_user, value
from .test_tags import session, wait_until_blocked


@pytest.fixture
def rules(db: str) -> dict:
    """A user with an account and two rules for 'tea': Transportation (priority 9) before Groceries (8)."""
    with psycopg.connect(db, autocommit=True) as conn:
        u = make_user(conn, "importer@example.com")
        account = make_account(conn, u["id"])["id"]
        top = insert(conn, "category_rules", user_id=u["id"], category="Transportation", keyword_pattern="tea",
                     priority=9)["id"]
        insert(conn, "category_rules", user_id=u["id"], category="Groceries", keyword_pattern="tea", priority=8)
        return {"user": u["id"], "account": account, "top": top}


def import_tea(conn: psycopg.Connection, account: int, outcome: list) -> None:
    try:
        outcome.append(conn.execute(
            "SELECT inserted_count FROM api.import_transactions(%s, %s, 'race')",
            (account, Jsonb([{"txn_date": "2025-03-05", "amount": "-3", "description": "Green tea"},
                             {"txn_date": "2025-03-06", "amount": "-4", "description": "Iced tea"}])),
        ).fetchone()[0])
        conn.commit()
    except psycopg.Error as exc:
        outcome.append((exc.sqlstate, exc.diag.constraint_name))


def test_a_rule_deleted_while_the_import_chooses_it_is_waited_for_and_skipped(db: str, rules: dict) -> None:
    with session(db, rules["user"]) as deleter, session(db, rules["user"]) as importer, \
            psycopg.connect(db, autocommit=True) as watcher:
        deleter.execute("DELETE FROM bank.category_rules WHERE id = %s", (rules["top"],))
        outcome: list = []
        done = threading.Thread(target=import_tea, args=(importer, rules["account"], outcome))
        done.start()
        wait_until_blocked(watcher, importer.info.backend_pid)  # the import chose the rule being deleted
        deleter.commit()
        done.join()
        assert outcome == [2]
        assert watcher.execute(
            "SELECT t.description, t.category, r.priority FROM bank.transactions AS t"
            " JOIN bank.category_rules AS r ON r.user_id = t.user_id AND r.id = t.category_rule_id ORDER BY t.id"
        ).fetchall() == [("Green tea", "Groceries", 8), ("Iced tea", "Groceries", 8)]
        assert value(watcher, "SELECT count(*) FROM bank.verify_totals()") == 0

