"""Point 3 of issue 14: the user api.set_user acts for reaches the workers, for this transaction only.

A distributed table of the test's own (the bank tables are distributed by `bankdb distribute`)
with the policy bankdb's tables have, without the subquery Citus refuses in a policy, read and
written as bank_app: the rows live on both workers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from bankdb import migrator

from ..conftest import PROJECT
from ..helpers import make_user
from .conftest import Cluster, create_database, drop_database, new_db_name

NOTES = """
CREATE TABLE bank.test_notes (user_id bigint NOT NULL, note text NOT NULL);
SELECT create_distributed_table('bank.test_notes', 'user_id', shard_count => 4);
ALTER TABLE bank.test_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank.test_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY acting_user ON bank.test_notes TO bank_app
USING (user_id = api.current_user_id()) WITH CHECK (user_id = api.current_user_id());
GRANT SELECT, INSERT ON bank.test_notes TO bank_app;
"""


@pytest.fixture(scope="module")
def notes_db(cluster: Cluster) -> Iterator[tuple[str, list[int]]]:
    """A migrated database with test_notes: two notes for each of four users, spread over both workers."""
    name = new_db_name("bankdb_citus")
    create_database(cluster, name)
    conninfo = cluster.conninfo(name)
    try:
        migrator.migrate(PROJECT, conninfo, out=lambda _: None)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            users = [make_user(conn, f"u{i}@example.com")["id"] for i in range(4)]
            for statement in NOTES.strip().split(";\n"):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO bank.test_notes SELECT u, format('note %%s of %%s', n, u) "
                "FROM unnest(%s::bigint[]) AS u, generate_series(1, 2) AS n",
                (users,),
            )
            workers = conn.execute(
                "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'bank.test_notes'::regclass "
                "AND shardid IN (SELECT get_shard_id_for_distribution_column('bank.test_notes', u) "
                "FROM unnest(%s::bigint[]) AS u)",
                (users,),
            ).fetchone()[0]
            assert workers == 2, "the four users' rows must span both workers for this test to mean anything"
        yield conninfo, users
    finally:
        drop_database(cluster, name)


def notes(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT user_id, note FROM bank.test_notes ORDER BY user_id, note").fetchall()


def test_a_distributed_read_returns_the_acting_users_rows_from_whichever_worker_holds_them(notes_db) -> None:
    conninfo, users = notes_db
    with psycopg.connect(conninfo, autocommit=True) as conn:  # each `with conn.transaction()` its own
        conn.execute("SET ROLE bank_app")
        for user in users:
            with conn.transaction():
                conn.execute("SELECT api.set_user(%s)", (user,))
                assert notes(conn) == [(user, f"note 1 of {user}"), (user, f"note 2 of {user}")]
                assert conn.execute("SELECT api.current_user_id()").fetchone()[0] == user


def test_the_acting_user_ends_with_its_transaction_on_the_workers_too(notes_db) -> None:
    conninfo, users = notes_db
    with psycopg.connect(conninfo, autocommit=True) as conn:  # each `with conn.transaction()` its own
        conn.execute("SET ROLE bank_app")
        with conn.transaction():
            conn.execute("SELECT api.set_user(%s)", (users[0],))
            assert len(notes(conn)) == 2
        with conn.transaction():  # the same connection, and the same connections to the workers
            assert notes(conn) == []
        # Written for the session, by hand, in api.set_user's format: no transaction's user.
        conn.execute("SELECT set_config('app.user_id', %s, false)", (f"{users[0]}@0",))
        with conn.transaction():
            assert notes(conn) == []
            assert conn.execute("SELECT api.current_user_id()").fetchone()[0] is None


def test_writes_on_the_workers_are_checked_against_the_acting_user(notes_db) -> None:
    conninfo, users = notes_db
    with psycopg.connect(conninfo, autocommit=True) as conn:  # each `with conn.transaction()` its own
        conn.execute("SET ROLE bank_app")
        with conn.transaction():
            conn.execute("SELECT api.set_user(%s)", (users[1],))
            conn.execute("INSERT INTO bank.test_notes VALUES (%s, 'mine')", (users[1],))
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused, conn.transaction():
                conn.execute("INSERT INTO bank.test_notes VALUES (%s, 'theirs')", (users[2],))
            # The worker refuses it, naming the shard the row would have gone to.
            assert re.fullmatch(
                r'new row violates row-level security policy for table "test_notes_\d+"',
                refused.value.diag.message_primary,
            )
            assert notes(conn) == [(users[1], "mine"), (users[1], f"note 1 of {users[1]}"),
                                   (users[1], f"note 2 of {users[1]}")]
        with conn.transaction():
            conn.execute("SELECT api.set_user(%s)", (users[2],))
            assert notes(conn) == [(users[2], f"note 1 of {users[2]}"), (users[2], f"note 2 of {users[2]}")]
        with conn.transaction():  # the first transaction committed its own row only
            conn.execute("SELECT api.set_user(%s)", (users[1],))
            assert [note for _, note in notes(conn)] == ["mine", f"note 1 of {users[1]}", f"note 2 of {users[1]}"]
