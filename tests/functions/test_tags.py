"""Tags: one name per user whatever its case, links only between a user's own rows, links that follow
their transaction (deleted with it, moved with its date), totals per tag and month, and no effect on
any other total."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bankdb import retention

from ..helpers import add_txn, insert, make_account, make_user, value
from ..security.conftest import acting


def tag(conn: psycopg.Connection, user: dict, name: str) -> dict:
    return insert(conn, "tags", user_id=user["id"], name=name)


def link(conn: psycopg.Connection, txn: dict, tag_row: dict) -> dict:
    return insert(conn, "transaction_tags", user_id=txn["user_id"], txn_date=txn["txn_date"],
                  transaction_id=txn["id"], tag_id=tag_row["id"])


def links(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT user_id, txn_date, transaction_id, tag_id FROM bank.transaction_tags ORDER BY 1, 2, 3, 4"
    ).fetchall()


def totals(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT * FROM bank.monthly_totals ORDER BY user_id, month, category").fetchall()


# -- tags and links as an application writes them: plain SQL under row-level security -------------------


def test_an_application_tags_and_untags_with_plain_sql(conn: psycopg.Connection, user: dict) -> None:
    txn = add_txn(conn, user["checking"], "12.50", description="Hotel Lisbon")
    with acting(conn, "bank_app", user["id"]):
        created = conn.execute("INSERT INTO bank.tags (name) VALUES ('Vacation-2026') RETURNING user_id, name").fetchone()
        assert created == (user["id"], "Vacation-2026")
        # The tag by name whatever its case, made if missing: ON CONFLICT on the case-insensitive key.
        again = conn.execute(
            "INSERT INTO bank.tags (name) VALUES ('vacation-2026') ON CONFLICT (user_id, lower(name)) DO NOTHING"
        ).rowcount
        assert again == 0
        tag_id = value(conn, "SELECT id FROM bank.tags WHERE lower(name) = lower('VACATION-2026')")
        conn.execute(
            "INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id) VALUES (%s, %s, %s)",
            (txn["txn_date"], txn["id"], tag_id),
        )
        assert links(conn) == [(user["id"], date(2025, 3, 5), txn["id"], tag_id)]
        conn.execute("UPDATE bank.tags SET name = 'Lisbon 2026' WHERE id = %s", (tag_id,))
        assert conn.execute("SELECT name FROM api.tags").fetchall() == [("Lisbon 2026",)]
        assert conn.execute(
            "DELETE FROM bank.transaction_tags WHERE transaction_id = %s AND tag_id = %s", (txn["id"], tag_id)
        ).rowcount == 1
        assert links(conn) == []


def test_a_tag_name_differing_only_in_case_is_refused_naming_the_rule(conn: psycopg.Connection, user: dict) -> None:
    tag(conn, user, "Vacation-2026")
    other = make_user(conn, "other@example.com")
    tag(conn, other, "VACATION-2026")  # another user's tags are their own
    with acting(conn, "bank_app", user["id"]):
        for statement in ("INSERT INTO bank.tags (name) VALUES ('VACATION-2026')",
                          "INSERT INTO bank.tags (name) VALUES ('Work'); UPDATE bank.tags SET name = 'vacation-2026'"
                          " WHERE name = 'Work'"):
            with pytest.raises(psycopg.errors.UniqueViolation) as failure, conn.transaction():
                conn.execute(statement)
            error = failure.value
            assert error.diag.constraint_name == "tags_user_id_name_key"
            assert error.diag.message_primary == 'duplicate key value violates unique constraint "tags_user_id_name_key"'
            # PostgreSQL shows no key values of a table under row-level security (DETAIL is for the owner).
            assert error.diag.message_detail is None
    with pytest.raises(psycopg.errors.UniqueViolation) as failure, conn.transaction():
        tag(conn, user, "vacation-2026")
    assert failure.value.diag.message_detail == f"Key (user_id, lower(name))=({user['id']}, vacation-2026) already exists."
    assert conn.execute("SELECT user_id, name FROM bank.tags ORDER BY user_id").fetchall() == [
        (user["id"], "Vacation-2026"), (other["id"], "VACATION-2026"),
    ]


@pytest.mark.parametrize(("name", "rule"), [
    ("", "tags_name_check"),
    (" Trip", "tags_name_check"),
    ("Trip ", "tags_name_check"),
    ("t" * 51, "tags_name_check"),
    ("\u00a0\u200b", "tags_name_visible_check"),
])
def test_a_tag_name_without_text_or_with_surrounding_spaces_is_refused(conn, user: dict, name: str, rule: str) -> None:
    with acting(conn, "bank_app", user["id"]):
        with pytest.raises(psycopg.errors.CheckViolation) as failure, conn.transaction():
            conn.execute("INSERT INTO bank.tags (name) VALUES (%s)", (name,))
    assert failure.value.diag.constraint_name == rule
    assert value(conn, "SELECT count(*) FROM bank.tags") == 0


def test_a_link_to_a_transaction_or_tag_not_the_users_is_refused_like_a_foreign_key(
    conn: psycopg.Connection, user: dict
) -> None:
    own_txn = add_txn(conn, user["checking"], "5.00")
    own_tag = tag(conn, user, "Trip")
    other = make_user(conn, "other@example.com")
    other_txn = add_txn(conn, make_account(conn, other["id"]), "7.00", txn_date="2025-03-09")
    other_tag = tag(conn, other, "Trip")
    insert_link = "INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id) VALUES (%s, %s, %s)"
    with acting(conn, "bank_app", user["id"]):
        for txn_date, txn_id in (("2025-03-09", other_txn["id"]),  # another user's transaction
                                 ("2025-03-06", own_txn["id"]),  # the user's own, under another date
                                 ("2025-03-05", 999_999_999)):  # none
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as failure, conn.transaction():
                conn.execute(insert_link, (txn_date, txn_id, own_tag["id"]))
            error = failure.value
            assert error.diag.constraint_name == "transaction_tags_user_id_txn_date_transaction_id_fkey"
            assert error.diag.message_primary == ('insert or update on table "transaction_tags" violates foreign key '
                                                  'constraint "transaction_tags_user_id_txn_date_transaction_id_fkey"')
            assert error.diag.message_detail == (f"Key (user_id, txn_date, transaction_id)=({user['id']}, {txn_date}, "
                                                 f"{txn_id}) is not present in table \"transactions\".")
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as failure, conn.transaction():
            conn.execute(insert_link, ("2025-03-05", own_txn["id"], other_tag["id"]))
        assert failure.value.diag.constraint_name == "transaction_tags_user_id_tag_id_fkey"
        # A link for the other user, naming the other user's rows: row-level security refuses it first.
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as failure, conn.transaction():
            conn.execute("INSERT INTO bank.transaction_tags (user_id, txn_date, transaction_id, tag_id)"
                         " VALUES (%s, '2025-03-09', %s, %s)", (other["id"], other_txn["id"], other_tag["id"]))
        assert failure.value.diag.message_primary == (
            'new row violates row-level security policy for table "transaction_tags"'
        )
    assert links(conn) == []


def test_without_an_acting_user_tagging_fails_clearly(conn: psycopg.Connection, user: dict) -> None:
    with acting(conn, "bank_app", None):
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute("INSERT INTO bank.tags (name) VALUES ('Trip')")
    assert failure.value.sqlstate == "BKUS1"


# -- links follow their transaction ---------------------------------------------------------------------


@pytest.fixture
def tagged(conn: psycopg.Connection, user: dict) -> dict:
    """Three transactions of March 2025; the first two tagged Trip, the first also Work."""
    txns = [add_txn(conn, user["checking"], amount, txn_date=day, description=f"Purchase {i}")
            for i, (amount, day) in enumerate([("10.00", "2025-03-05"), ("20.00", "2025-03-06"),
                                               ("30.00", "2025-03-07")])]
    trip, work = tag(conn, user, "Trip"), tag(conn, user, "Work")
    link(conn, txns[0], trip)
    link(conn, txns[0], work)
    link(conn, txns[1], trip)
    return {"user": user, "txns": txns, "trip": trip, "work": work}


def test_deleting_a_transaction_deletes_its_links_only(conn: psycopg.Connection, tagged: dict) -> None:
    t, u = tagged["txns"], tagged["user"]["id"]
    with acting(conn, "bank_app", u):
        conn.execute("DELETE FROM bank.transactions WHERE id = %s", (t[0]["id"],))
        assert links(conn) == [(u, date(2025, 3, 6), t[1]["id"], tagged["trip"]["id"])]


def test_a_new_date_moves_the_links_within_the_month_and_to_another_partition(
    conn: psycopg.Connection, tagged: dict
) -> None:
    t, u, trip, work = tagged["txns"], tagged["user"]["id"], tagged["trip"]["id"], tagged["work"]["id"]
    # As the application would (acting's savepoint is released, not rolled back, by the inner one).
    conn.execute("SET LOCAL ROLE bank_app")
    conn.execute("SELECT api.set_user(%s)", (u,))
    conn.execute("UPDATE bank.transactions SET txn_date = '2025-03-28' WHERE id = %s", (t[0]["id"],))
    conn.execute("UPDATE bank.transactions SET txn_date = '2025-05-02' WHERE id = %s", (t[1]["id"],))
    conn.execute("UPDATE bank.transactions SET category = 'Shopping', description = 'Renamed'")  # no date change
    conn.execute("RESET ROLE")
    assert links(conn) == [
        (u, date(2025, 3, 28), t[0]["id"], trip), (u, date(2025, 3, 28), t[0]["id"], work),
        (u, date(2025, 5, 2), t[1]["id"], trip),
    ]
    assert value(conn, "SELECT tableoid::regclass::text FROM bank.transactions WHERE id = %s",
                 (t[1]["id"],)) == "bank_partitions.transactions_2025_05"
    # One statement moving several rows both ways.
    conn.execute("UPDATE bank.transactions SET txn_date = CASE WHEN txn_date = '2025-05-02' THEN DATE '2025-02-01'"
                 " ELSE txn_date + 1 END WHERE user_id = %s", (u,))
    assert links(conn) == [
        (u, date(2025, 2, 1), t[1]["id"], trip),
        (u, date(2025, 3, 29), t[0]["id"], trip), (u, date(2025, 3, 29), t[0]["id"], work),
    ]


def test_a_transaction_moved_to_another_user_by_the_owner_loses_its_tags(conn: psycopg.Connection, tagged: dict) -> None:
    t = tagged["txns"]
    other = make_user(conn, "other@example.com")
    account = make_account(conn, other["id"])
    conn.execute("UPDATE bank.transactions SET user_id = %s, account_id = %s WHERE id = %s",
                 (other["id"], account["id"], t[0]["id"]))
    assert links(conn) == [(tagged["user"]["id"], date(2025, 3, 6), t[1]["id"], tagged["trip"]["id"])]


def test_deleting_a_tag_an_account_or_a_user_takes_the_links_with_it(conn: psycopg.Connection, tagged: dict) -> None:
    u = tagged["user"]
    with acting(conn, "bank_app", u["id"]):
        conn.execute("DELETE FROM bank.tags WHERE id = %s", (tagged["work"]["id"],))
        assert [r[3] for r in links(conn)] == [tagged["trip"]["id"]] * 2
        conn.execute("DELETE FROM bank.accounts WHERE id = %s", (u["checking"]["id"],))
        assert links(conn) == []
    tag_again = tag(conn, u, "Trip 2")
    link(conn, add_txn(conn, u["savings"], "1.00"), tag_again)
    conn.execute("DELETE FROM bank.users WHERE id = %s", (u["id"],))
    assert links(conn) == []
    assert value(conn, "SELECT count(*) FROM bank.tags") == 0


def test_an_undone_import_takes_its_links_with_it(conn: psycopg.Connection, user: dict) -> None:
    trip = tag(conn, user, "Trip")
    with acting(conn, "bank_app", user["id"]):
        batch = value(conn, "SELECT id FROM api.import_transactions(%s, %s::jsonb, 'x.csv')", (
            user["checking"]["id"],
            '[{"txn_date": "2025-03-05", "amount": "-4.00", "description": "Cafe"},'
            ' {"txn_date": "2025-04-05", "amount": "-5.00", "description": "Cafe"}]'))
        conn.execute("INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id)"
                     " SELECT txn_date, id, %s FROM bank.transactions", (trip["id"],))
        assert len(links(conn)) == 2
        conn.execute("SELECT api.undo_import(%s)", (batch,))
        assert links(conn) == []


def test_tags_never_change_totals(conn: psycopg.Connection, user: dict) -> None:
    txns = [add_txn(conn, user["checking"], "10.00", category="Groceries"),
            add_txn(conn, user["checking"], "25.00", txn_type="credit", txn_date="2025-04-01")]
    insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Groceries", limit_amount="100")
    before = (totals(conn), conn.execute("SELECT spent_amount FROM bank.budgets").fetchall())
    trip = tag(conn, user, "Trip")
    for txn in txns:
        link(conn, txn, trip)
    conn.execute("DELETE FROM bank.transaction_tags")
    link(conn, txns[0], trip)
    assert (totals(conn), conn.execute("SELECT spent_amount FROM bank.budgets").fetchall()) == before
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_an_archived_month_keeps_its_links_and_gets_its_tags_back_when_restored(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        u = make_user(conn, "old@example.com")
        account = make_account(conn, u["id"])
        old, new = add_txn(conn, account, "10.00", txn_date="2025-02-03"), add_txn(conn, account, "5.00",
                                                                                  txn_date="2025-05-05")
        trip = tag(conn, u, "Trip")
        link(conn, old, trip)
        link(conn, new, trip)
    # A foreign key to the partitioned transactions would refuse this DETACH while February is tagged.
    retention.archive_partitions(db, 3, tmp_path, today=date(2025, 6, 15), out=lambda _: None)
    with psycopg.connect(db, autocommit=True) as conn:
        assert [r[2] for r in links(conn)] == [old["id"], new["id"]]
        conn.execute("SET ROLE bank_app")
        with conn.transaction():
            conn.execute("SELECT api.set_user(%s)", (u["id"],))
            assert conn.execute("SELECT id FROM api.tagged_transactions").fetchall() == [(new["id"],)]
            assert conn.execute("SELECT txn_count FROM api.tags").fetchall() == [(2,)]
        conn.execute("RESET ROLE")
        conn.execute("SELECT bank.create_transaction_partitions('2025-02-01', '2025-02-28')")
        with (tmp_path / "transactions_2025_02.copy").open("rb") as f, \
                conn.cursor().copy("COPY bank_partitions.transactions_2025_02 FROM STDIN") as copy:
            copy.write(f.read())
        assert [r[0] for r in conn.execute("SELECT id FROM api.tagged_transactions ORDER BY txn_date")] == [
            old["id"], new["id"]
        ]


# -- the api views ------------------------------------------------------------------------------------------


def test_the_tag_views_list_tags_totals_per_month_and_the_transactions_of_a_tag(
    conn: psycopg.Connection, user: dict
) -> None:
    checking = user["checking"]
    t1 = add_txn(conn, checking, "12.50", txn_date="2025-03-05", description="Hotel Lisbon")
    t2 = add_txn(conn, checking, "40.00", txn_date="2025-03-20", description="Train")
    t3 = add_txn(conn, checking, "100.00", txn_type="credit", txn_date="2025-04-02", description="Hotel refund")
    t4 = add_txn(conn, checking, "30.00", txn_date="2025-04-03", description="Card bill", kind="card_payment")
    vacation, work, unused = tag(conn, user, "Vacation"), tag(conn, user, "Work"), tag(conn, user, "Unused")
    for txn in (t1, t2, t3, t4):
        link(conn, txn, vacation)
    link(conn, t2, work)
    # Another user's tags and a JPY user's amounts at their own scale.
    yen = make_user(conn, "yen@example.com", "JPY")
    yen_tag = tag(conn, yen, "Vacation")
    link(conn, add_txn(conn, make_account(conn, yen["id"], "JPY"), "1500", txn_type="credit", txn_date="2025-03-01"),
         yen_tag)
    with acting(conn, "bank_app", user["id"]):
        assert conn.execute(
            "SELECT user_id, id, name, txn_count, last_txn_date FROM api.tags ORDER BY lower(name)"
        ).fetchall() == [
            (user["id"], unused["id"], "Unused", 0, None),
            (user["id"], vacation["id"], "Vacation", 4, date(2025, 4, 3)),
            (user["id"], work["id"], "Work", 1, date(2025, 3, 20)),
        ]
        # Only regular transactions count (the card payment does not); a transaction with two tags counts in both.
        rows = conn.execute(
            "SELECT tag_name, month, spending::text, income::text, txn_count, currency FROM api.tag_monthly_totals"
            " ORDER BY tag_name, month"
        ).fetchall()
        assert rows == [
            ("Vacation", date(2025, 3, 1), "52.50", "0.00", 2, "USD"),
            ("Vacation", date(2025, 4, 1), "0.00", "100.00", 1, "USD"),
            ("Work", date(2025, 3, 1), "40.00", "0.00", 1, "USD"),
        ]
        assert conn.execute(
            "SELECT id, txn_date, bank_name, masked_account, description, amount, kind, tag_name"
            " FROM api.tagged_transactions WHERE tag_id = %s ORDER BY txn_date DESC, id DESC LIMIT 3",
            (vacation["id"],),
        ).fetchall() == [
            (t4["id"], date(2025, 4, 3), "Bank", "****0001", "Card bill", Decimal("30.00"), "card_payment", "Vacation"),
            (t3["id"], date(2025, 4, 2), "Bank", "****0001", "Hotel refund", Decimal("100.00"), "regular", "Vacation"),
            (t2["id"], date(2025, 3, 20), "Bank", "****0001", "Train", Decimal("40.00"), "regular", "Vacation"),
        ]
    with acting(conn, "bank_app", yen["id"]):
        assert conn.execute(
            "SELECT tag_name, month, spending::text, income::text, txn_count, currency FROM api.tag_monthly_totals"
        ).fetchall() == [("Vacation", date(2025, 3, 1), "0", "1500", 1, "JPY")]
        assert conn.execute("SELECT name, txn_count FROM api.tags").fetchall() == [("Vacation", 1)]


# -- concurrency: a link and its transaction's deletion in two sessions ---------------------------------


def wait_until_blocked(conn: psycopg.Connection, pid: int) -> None:
    for _ in range(500):
        if value(conn, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)):
            return
        time.sleep(0.01)
    raise AssertionError(f"session {pid} never waited for a lock")


@pytest.fixture
def committed(db: str) -> dict:
    with psycopg.connect(db, autocommit=True) as conn:
        u = make_user(conn, "user@example.com")
        txn = add_txn(conn, make_account(conn, u["id"]), "9.00")
        return {"user": u["id"], "txn": txn["id"], "tag": tag(conn, u, "Trip")["id"]}


def session(db: str, user: int) -> psycopg.Connection:
    conn = psycopg.connect(db)
    conn.execute("SET ROLE bank_app")
    conn.execute("SELECT api.set_user(%s)", (user,))
    return conn


def test_a_transaction_deleted_while_being_tagged_takes_the_new_link_with_it(db: str, committed: dict) -> None:
    with session(db, committed["user"]) as tagger, session(db, committed["user"]) as deleter, \
            psycopg.connect(db, autocommit=True) as watcher:
        tagger.execute("INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id) VALUES"
                       " ('2025-03-05', %s, %s)", (committed["txn"], committed["tag"]))
        done = threading.Thread(target=lambda: (deleter.execute("DELETE FROM bank.transactions WHERE id = %s",
                                                                (committed["txn"],)), deleter.commit()))
        done.start()
        wait_until_blocked(watcher, deleter.info.backend_pid)  # the link's KEY SHARE lock holds the delete
        tagger.commit()
        done.join()
        assert value(watcher, "SELECT count(*) FROM bank.transaction_tags") == 0
        assert value(watcher, "SELECT count(*) FROM bank.transactions") == 0


def test_tagging_a_transaction_being_deleted_fails_once_the_delete_commits(db: str, committed: dict) -> None:
    with session(db, committed["user"]) as tagger, session(db, committed["user"]) as deleter, \
            psycopg.connect(db, autocommit=True) as watcher:
        deleter.execute("DELETE FROM bank.transactions WHERE id = %s", (committed["txn"],))
        errors: list[BaseException] = []

        def tag_it() -> None:
            try:
                tagger.execute("INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id) VALUES"
                               " ('2025-03-05', %s, %s)", (committed["txn"], committed["tag"]))
            except psycopg.Error as exc:
                errors.append(exc)

        done = threading.Thread(target=tag_it)
        done.start()
        wait_until_blocked(watcher, tagger.info.backend_pid)
        deleter.commit()
        done.join()
        assert [(e.sqlstate, e.diag.constraint_name) for e in errors] == [
            ("23503", "transaction_tags_user_id_txn_date_transaction_id_fkey")
        ]
        tagger.rollback()
        assert value(watcher, "SELECT count(*) FROM bank.transaction_tags") == 0
