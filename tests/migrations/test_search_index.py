"""V012's search index on a large database: built beforehand partition by partition, without blocking
writes, and attached (not built again) by the migration, as docs/schema.md#search-index says."""

from __future__ import annotations

import psycopg

from bankdb import migrator

from ..conftest import PROJECT
from ..helpers import add_txn, make_account, make_user

QUIET = migrator.Session(lock_wait=5)
INDEX = "user_id_description_merchant_idx"


def partition_indexes(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Each partition of transactions: the oid and name of its search index."""
    return {part: (oid, name) for part, oid, name in conn.execute(
        """
        SELECT c.relname, i.indexrelid::integer, x.relname
        FROM pg_inherits AS h
        JOIN pg_class AS c ON c.oid = h.inhrelid
        JOIN pg_index AS i ON i.indrelid = c.oid
        JOIN pg_class AS x ON x.oid = i.indexrelid
        WHERE h.inhparent = 'bank.transactions'::regclass AND x.relname LIKE %s
        """,
        (f"%\\_{INDEX}",),
    ).fetchall()}


def test_an_index_built_beforehand_on_each_partition_is_attached_by_the_migration(empty_db: str) -> None:
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("SELECT bank.create_transaction_partitions('2025-02-01', '2025-03-31')")
        account = make_account(conn, make_user(conn, "a@example.com")["id"])
        txn = add_txn(conn, account, "9.99", description="NETFLIX.COM")
    # Back to before V012 (through the migrations after it).
    since_v012 = [m for m in PROJECT.migrations.glob("V*.sql") if not m.name.endswith(".rollback.sql")
                  and int(m.name[1:4]) >= 12]
    migrator.rollback(PROJECT, empty_db, steps=len(since_v012), session=QUIET, out=lambda _: None)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert partition_indexes(conn) == {}
        # What the DBA runs: the extensions, then the index on each partition, CONCURRENTLY.
        conn.execute("CREATE SCHEMA ext AUTHORIZATION bank_owner")
        conn.execute("CREATE EXTENSION pg_trgm SCHEMA ext")
        conn.execute("CREATE EXTENSION btree_gin SCHEMA ext")
        partitions = [r[0] for r in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'bank.transactions'::regclass"
        ).fetchall()]
        for partition in partitions:
            name = partition.split(".")[1] + "_" + INDEX
            conn.execute(f"CREATE INDEX CONCURRENTLY {name} ON {partition} USING gin"
                         " (user_id, (description || ' ' || coalesce(merchant, '')) ext.gin_trgm_ops)")
        built = partition_indexes(conn)
        assert len(built) == len(partitions) > 2
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert partition_indexes(conn) == built  # the same indexes, attached
        assert conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'bank.transactions_user_id_description_merchant_idx'::regclass"
        ).fetchone() == (True,)
        with conn.transaction():
            conn.execute("SET LOCAL ROLE bank_app")
            conn.execute("SELECT api.set_user(%s)", (account["user_id"],))
            assert conn.execute("SELECT id FROM api.search_transactions('netflix')").fetchall() == [(txn["id"],)]
