"""The monitor views answer, for the roles that may read them, and only for those."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from ..security.conftest import acting


def test_every_monitor_view_is_readable_by_dbas_and_admins_only(conn: psycopg.Connection) -> None:
    views = [r[0] for r in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class AS c WHERE c.relnamespace = 'monitor'::regnamespace"
        " AND c.relkind = 'v' ORDER BY 1"
    ).fetchall()]
    assert views == [
        "monitor.bloat", "monitor.index_usage", "monitor.long_running_queries", "monitor.partition_sizes",
        "monitor.replication_lag", "monitor.table_sizes", "monitor.top_queries",
    ]
    for role in ("bank_migrator", "bank_admin"):
        with acting(conn, role, None):
            for view in views:
                conn.execute(f"SELECT * FROM {view}").fetchall()
    for role in ("bank_app", "bank_readonly"):
        with acting(conn, role, None), pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT * FROM monitor.table_sizes")


def test_sizes_partitions_and_top_queries(conn: psycopg.Connection) -> None:
    sizes = dict(conn.execute(
        "SELECT table_name, total_bytes FROM monitor.table_sizes WHERE schema_name = 'bank'"
    ).fetchall())
    assert sizes["transactions"] > 0 and len(sizes) == 23
    partitions = conn.execute("SELECT count(*) FROM monitor.partition_sizes").fetchone()[0]
    assert partitions == conn.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'bank.transactions'::regclass"
    ).fetchone()[0]
    assert conn.execute("SELECT count(*) FROM monitor.replication_lag").fetchone()[0] == 0
    preloaded = "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
    top = conn.execute("SELECT query, calls, mean_exec_ms FROM monitor.top_queries").fetchall()
    assert bool(top) == preloaded  # statements were run while the template was built


def test_a_long_running_query_shows(db: str) -> None:
    sleeper = threading.Thread(target=lambda: psycopg.connect(db, autocommit=True).execute("SELECT pg_sleep(3)"))
    sleeper.start()
    seen = []
    with psycopg.connect(db, autocommit=True) as conn:
        deadline = time.monotonic() + 2.5
        while ("SELECT pg_sleep(3)", True) not in seen and time.monotonic() < deadline:
            time.sleep(0.1)
            seen = conn.execute("SELECT query, running_for > interval '0.05 s' FROM monitor.long_running_queries").fetchall()
    sleeper.join()
    assert ("SELECT pg_sleep(3)", True) in seen
