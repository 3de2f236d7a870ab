"""Each migration's rollback undoes it exactly: migrate, roll back, migrate again, same schema."""

from __future__ import annotations

import re
import subprocess

import pytest

from bankdb import migrator
from bankdb.server import pg_bin

from ..conftest import PROJECT

QUIET = migrator.Session(lock_wait=5)


def schema_dump(conninfo: str) -> str:
    """pg_dump --schema-only, minus what differs between two makings of the same schema: the random
    \\restrict key newer pg_dump versions print, and the pg_attver stamp Debian's PostgreSQL 15.20
    writes into the options of every column it creates (a new number for every table made)."""
    dump = subprocess.run(
        [pg_bin("pg_dump"), "--schema-only", "--dbname", conninfo],
        check=True, capture_output=True, text=True,
    ).stdout
    return "\n".join(
        re.sub(r"pg_attver=\d+", "pg_attver=N", line)
        for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def test_migrate_creates_the_tables(empty_db: str) -> None:
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    dump = schema_dump(empty_db)
    tables = sorted(
        line.split()[2].rstrip("(")
        for line in dump.splitlines()
        if line.startswith("CREATE TABLE bank.")
    )
    assert tables == [
        "bank.account_balances", "bank.accounts", "bank.admin_logs", "bank.alerts", "bank.bills", "bank.budgets",
        "bank.category_master", "bank.category_rules", "bank.currencies", "bank.daily_flows", "bank.exchange_rates",
        "bank.import_batches", "bank.monthly_totals", "bank.recurring_candidates", "bank.reward_entries",
        "bank.rewards", "bank.statements", "bank.tags", "bank.transaction_external_ids", "bank.transaction_splits",
        "bank.transaction_tags",
        "bank.transactions", "bank.users",
    ]


MIGRATIONS = len(migrator.read_versioned(PROJECT.migrations))


@pytest.mark.parametrize("steps", range(1, MIGRATIONS + 1))
def test_rolling_back_and_migrating_again_gives_the_same_schema(empty_db: str, steps: int) -> None:
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    before = schema_dump(empty_db)
    migrator.rollback(PROJECT, empty_db, steps=steps, session=QUIET, out=lambda _: None)
    after_rollback = migrator.status(PROJECT, empty_db)
    assert len(after_rollback.pending) == steps
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    assert schema_dump(empty_db) == before


def test_rolling_back_everything_leaves_only_the_runners_history(empty_db: str) -> None:
    empty = schema_dump(empty_db)
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    migrator.rollback(PROJECT, empty_db, steps=MIGRATIONS, session=QUIET, out=lambda _: None)
    leftover = [
        line for line in schema_dump(empty_db).splitlines()
        if line.startswith("CREATE ") and line not in empty.splitlines()
    ]
    assert leftover == ["CREATE SCHEMA bankdb;", "CREATE TABLE bankdb.migrations ("]
