"""Operations on a distributed database (issue 14): new monthly partitions of the distributed
bank.transactions, `bankdb maintain`, `bankdb doctor`, the generator and `bankdb backup` of the
coordinator, each run on the cluster and checked against what the data says."""

from __future__ import annotations

import datetime
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from bankdb import backup, doctor, generate, maintain, migrator
from bankdb.server import pg_tool

from ..conftest import PROJECT
from . import data
from .conftest import Cluster, new_db_name

EVERYTHING = doctor.Limits(unused_index_min_bytes=1 << 40)  # no index is that big: unused ones don't count

# Ada's bills: one due three days ago (overdue once maintained), one due in two days (an alert).
BILLS = """
INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency)
SELECT u.id, b.name, current_date + b.days, 10, 'USD'
FROM bank.users AS u
CROSS JOIN (VALUES ('Late Power', -3), ('Soon Water', 2)) AS b (name, days)
WHERE u.email = 'ada@demo.bankdb.test'
"""


@pytest.fixture(scope="module")
def ops_db(cluster: Cluster) -> Iterator[str]:
    """A distributed database with the demo set, the demo users' foreign accounts and Ada's bills."""
    def fill(conninfo: str) -> None:
        data.load(conninfo, users=0)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(BILLS)

    with data.distributed_database(cluster, fill) as conninfo:
        yield conninfo


def month_ahead(months: int) -> str:
    first = datetime.date.today().replace(day=1)
    year, month = divmod(first.month - 1 + months, 12)
    return f"{first.year + year}_{month + 1:02d}"


def shards(conn: psycopg.Connection, table: str) -> tuple[int, int]:
    """How many shards a Citus table has, and its co-location group."""
    return conn.execute(
        "SELECT count(*), min(p.colocationid) FROM pg_dist_shard AS s"
        " JOIN pg_dist_partition AS p ON p.logicalrelid = s.logicalrelid WHERE s.logicalrelid = %s::regclass",
        (table,),
    ).fetchone()


def shard_stats(conn: psycopg.Connection, table: str) -> tuple[int, int]:
    """Rows changed since the last ANALYZE and dead rows of a table's shards, on every node."""
    changed = dead = 0
    for (result,) in conn.execute(
        "SELECT result FROM run_command_on_all_nodes(%s)",
        ("SELECT coalesce(json_agg(json_build_object('name', relname, 'changed', n_mod_since_analyze,"
         " 'dead', n_dead_tup)), '[]') FROM pg_stat_user_tables",),
    ).fetchall():
        for row in json.loads(result):
            if row["name"].startswith(table + "_") and row["name"].removeprefix(table + "_").isdigit():
                changed, dead = changed + row["changed"], dead + row["dead"]
    return changed, dead


def wait_for_stats(conninfo: str, table: str, changed: int = 0, dead: int = 0) -> None:
    """Until the workers' statistics show the changes a closed session made (a backend reports its
    counts when it ends or is idle, within seconds): waits for a state, then asserts it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = shard_stats(conn, table)
            if seen[0] >= changed and seen[1] >= dead:
                return
            time.sleep(0.5)
        assert shard_stats(conn, table) >= (changed, dead)


# -- partitions --------------------------------------------------------------------------------


def test_migrate_makes_a_month_that_began_on_a_distributed_database(ops_db: str) -> None:
    """Once a month begins, migrate makes the month now three ahead (it failed at once before:
    "cannot execute parallel DDL on table ... after DDL command on reference table")."""
    last = month_ahead(3)
    with psycopg.connect(ops_db, autocommit=True) as conn:
        expected = shards(conn, "bank.transactions")
        conn.execute(f"DROP TABLE bank_partitions.transactions_{last}")
    lines: list[str] = []
    migrator.migrate(PROJECT, ops_db, out=lines.append)
    assert lines == ["Nothing to do: the database is up to date."]
    with psycopg.connect(ops_db) as conn:
        assert shards(conn, f"bank_partitions.transactions_{last}") == expected and expected[0] > 1


def test_months_are_made_inside_a_transaction_as_the_import_and_the_generator_do(ops_db: str) -> None:
    with psycopg.connect(ops_db, autocommit=True) as conn:
        with conn.transaction():  # the generator's window: after a read of a reference table
            conn.execute("SELECT count(*) FROM bank.users")
            made = conn.execute("SELECT bank.create_transaction_partitions('2019-01-01', '2019-02-28')").fetchone()
        assert made == (2,)
        with conn.transaction(force_rollback=True):  # api.import_transactions: the user's rows first
            conn.execute("SET LOCAL ROLE bank_owner")
            conn.execute("SELECT * FROM bank.accounts WHERE user_id = 1 AND id = 1")
            conn.execute("INSERT INTO bank.import_batches (user_id, account_id, source, partial)"
                         " VALUES (1, 1, 'test.csv', FALSE)")
            assert conn.execute("SELECT bank.create_transaction_partitions('2019-03-01', '2019-03-01')").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM bank.transactions WHERE user_id = 1").fetchone()[0] > 0
        assert shards(conn, "bank_partitions.transactions_2019_02") == shards(conn, "bank.transactions")


def test_a_month_cannot_be_made_after_a_parallel_query_in_the_same_transaction(ops_db: str) -> None:
    """The limit the function's comment names: make the months first, in a transaction of their own."""
    with psycopg.connect(ops_db, autocommit=True) as conn:
        with pytest.raises(psycopg.Error, match="in sequential mode because a parallel query was executed"), \
                conn.transaction():
            conn.execute("SELECT count(*) FROM bank.transactions")
            conn.execute("SELECT bank.create_transaction_partitions('2018-01-01', '2018-01-01')")
        assert conn.execute("SELECT to_regclass('bank_partitions.transactions_2018_01')").fetchone() == (None,)


# -- maintain ----------------------------------------------------------------------------------


def test_maintain_makes_the_months_ahead_sweeps_the_bills_and_analyzes_what_changed_on_the_workers(
    ops_db: str
) -> None:
    with psycopg.connect(ops_db, autocommit=True) as conn:
        late, soon = conn.execute(
            "SELECT count(*) FILTER (WHERE due_date < current_date),"
            " count(*) FILTER (WHERE due_date BETWEEN current_date AND current_date + 3)"
            " FROM bank.bills WHERE status = 'upcoming'"
        ).fetchone()
    assert late >= 1 and soon >= 1
    done = {task: result for task, result in maintain.run(ops_db, 4, 3) if task != "analyze"}
    assert done == {"partitions": f"1 created, through {month_ahead(4).replace('_', '-')}",
                    "overdue bills": f"{late} marked overdue", "bill-due alerts": f"{soon} raised",
                    # the generated histories hold no series regular enough (tests/functions/test_recurring.py)
                    "recurring payments": "0 proposed"}
    with psycopg.connect(ops_db, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM bank.bills WHERE status = 'upcoming' AND due_date < current_date"
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM bank.alerts AS a JOIN bank.bills AS b ON (b.user_id, b.id) = (a.user_id, a.subject_id)"
            " WHERE a.type = 'bill_due' AND b.biller_name = 'Soon Water'"
        ).fetchone() == (1,)
        assert shards(conn, f"bank_partitions.transactions_{month_ahead(4)}") == shards(conn, "bank.transactions")
    assert {task: result for task, result in maintain.run(ops_db, 4, 3) if task != "analyze"} == {"partitions": f"0 created, through {month_ahead(4).replace('_', '-')}",
                                                "overdue bills": "0 marked overdue", "bill-due alerts": "0 raised",
                                                "recurring payments": "0 proposed"}
    # 3000 alerts change one shard of bank.alerts on a worker: the coordinator's statistics never see it.
    with psycopg.connect(ops_db, autocommit=True) as conn:
        conn.execute("INSERT INTO bank.alerts (user_id, type, message)"
                     " SELECT 2, 'bill_due', 'x' FROM generate_series(1, 3000)")
    wait_for_stats(ops_db, "alerts", changed=3000)
    analyzed = [result for task, result in maintain.run(ops_db, 4, 3) if task == "analyze"]
    assert "bank.alerts" in analyzed


# -- doctor ------------------------------------------------------------------------------------


def test_the_doctor_finds_a_distributed_database_healthy(ops_db: str) -> None:
    maintain.run(ops_db, None, 3)
    assert doctor.examine(ops_db, EVERYTHING) == {
        name: [] for name, _ in doctor.CHECKS + doctor.CITUS_CHECKS
    }


# -- backup of the coordinator -----------------------------------------------------------------


def test_a_backup_of_the_coordinator_holds_every_row_of_the_shards_and_restores_as_plain_tables(
    cluster: Cluster, ops_db: str, tmp_path: Path
) -> None:
    taken = backup.backup(ops_db, tmp_path, out=lambda _: None)
    manifest = json.loads((taken / "manifest.json").read_text())
    with psycopg.connect(ops_db) as conn:
        assert manifest["tables"]["bank.transactions"]["rows"] == conn.execute(
            "SELECT count(*) FROM bank.transactions").fetchone()[0] > 100
    # pg_dump on the coordinator reads each Citus table's rows from its shards (COPY ... TO runs on
    # them): restored on the coordinator, a database of plain tables with every row.
    restored = new_db_name("bankdb_restored")
    maintenance = cluster.conninfo(cluster.params["dbname"])
    try:
        assert backup.restore(maintenance, taken, restored, out=lambda _: None) == []
        with psycopg.connect(cluster.conninfo(restored)) as conn:
            assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM pg_dist_node").fetchone() == (0,)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    # The dump creates the citus extension: only a server with Citus can restore it.
    listing = subprocess.run([pg_tool("pg_restore", 15), "--list", str(taken / "database.dump")],
                             capture_output=True, text=True, check=True).stdout
    assert " EXTENSION - citus" in listing


# -- the generator -----------------------------------------------------------------------------


def test_the_generator_refuses_a_login_that_does_not_bypass_row_level_security(
    cluster: Cluster, ops_db: str
) -> None:
    login = new_db_name("bankdb_test_dba")
    with psycopg.connect(ops_db, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE bank_migrator')
    try:
        as_dba = make_conninfo(ops_db, user=login)
        with pytest.raises(generate.GenerateError, match=(
            f"on a distributed Citus database the generator loads rows that Citus COPYs into the shards, which "
            f"PostgreSQL refuses under row-level security; {login} does not bypass it. Run it as a superuser, "
            "or generate before `bankdb distribute`. Nothing was changed.")):
            generate.generate(as_dba, 5, out=lambda _: None, progress=lambda *_: None, project=PROJECT)
    finally:
        with psycopg.connect(ops_db, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{login}"')


# -- doctor, planted problems (they stay: last but the generator) ------------------------


def test_the_doctor_finds_problems_planted_on_the_workers(ops_db: str) -> None:
    next_month = month_ahead(1)
    with psycopg.connect(ops_db, autocommit=True) as conn:
        conn.execute(f"DROP TABLE bank_partitions.transactions_{next_month}")
        conn.execute("CREATE INDEX bills_biller_name_idx ON bank.bills (biller_name)")
        conn.execute("ALTER TABLE bank.rewards SET (autovacuum_enabled = false)")
        conn.execute("INSERT INTO bank.rewards (user_id, program_name)"
                     " SELECT 3, 'Program ' || n FROM generate_series(1, 3000) AS n")
        conn.execute("DELETE FROM bank.rewards WHERE program_name LIKE 'Program %' AND right(program_name, 1) <> '0'")
        groceries = conn.execute(
            "SELECT spending FROM bank.monthly_totals"
            " WHERE user_id = 2 AND month = date_trunc('month', current_date)::date AND category = 'Groceries'"
        ).fetchone()[0]
        with conn.transaction():  # a load with triggers, and so foreign keys, off on the workers
            conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("DELETE FROM bank.accounts WHERE masked_account = '****1003'")  # Ada's card, with purchases
            conn.execute("UPDATE bank.monthly_totals SET spending = spending + 1"
                         " WHERE user_id = 2 AND month = date_trunc('month', current_date)::date AND category = 'Groceries'")
        orphans = {table: conn.execute(
            f"SELECT count(*) FROM bank.{table} AS t WHERE NOT EXISTS"
            " (SELECT FROM bank.accounts AS a WHERE (a.user_id, a.id) = (t.user_id, t.account_id))"
        ).fetchone()[0] for table in ("account_balances", "daily_flows", "transactions")}
    wait_for_stats(ops_db, "rewards", dead=2700)
    report = doctor.examine(ops_db, doctor.Limits(unused_index_min_bytes=0))
    assert all(orphans.values())  # the card's balance, its days and its purchases
    assert sorted(report["orphaned rows"]) == [
        f"{rows} row(s) of bank.{table} point nowhere ({table}_user_id_account_id_fkey -> bank.accounts)"
        for table, rows in orphans.items()
    ]
    this_month = datetime.date.today().strftime("%Y-%m")
    assert f"monthly_totals.spending of user 2 ({this_month} Groceries): {groceries + 1}, but the raw rows say " \
           f"{groceries}" in report["derived totals against raw rows"]
    assert report["derived totals against raw rows"][-1].endswith(
        " derived total(s) drifted: repair with SELECT bank.rebuild_totals()"
    )
    assert report["partitions ahead"] == [
        f"no partition of bank.transactions for {next_month.replace('_', '-')}: run bankdb maintain"
    ]
    # Every shard's index added up under the index's name, the dead rows of every shard under the table's.
    with psycopg.connect(ops_db) as conn:
        size, live = conn.execute(
            "SELECT pg_size_pretty(sum(result::bigint)), (SELECT count(*) FROM bank.rewards)"
            " FROM run_command_on_all_nodes($$SELECT coalesce(sum(pg_relation_size(indexrelid)), 0)"
            " FROM pg_stat_user_indexes WHERE indexrelname ~ '^bills_biller_name_idx_[0-9]+$'$$)"
        ).fetchone()
    assert f"index bank.bills_biller_name_idx on bills ({size}) was never scanned since statistics were reset" \
        in report["unused indexes"]
    assert report["bloat"] == [f"bank.rewards: 2700 dead rows, {round(100 * 2700 / (2700 + live), 1)}% of the table: "
                               "VACUUM it (is autovacuum keeping up?)"]
    assert report["citus nodes reach each other"] == []
    with psycopg.connect(ops_db, autocommit=True) as conn:  # the orphans go, as the account's cascade would have taken them
        for table in orphans:
            conn.execute(f"DELETE FROM bank.{table} AS t WHERE NOT EXISTS"
                         " (SELECT FROM bank.accounts AS a WHERE (a.user_id, a.id) = (t.user_id, t.account_id))")


def test_the_generator_adds_users_to_a_distributed_database_with_exact_totals(ops_db: str) -> None:
    counts = generate.generate(ops_db, 20, months=3, out=lambda _: None, progress=lambda *_: None, project=PROJECT)
    assert counts["users"] == 20 and counts["transactions"] > 500
    with psycopg.connect(ops_db) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
