"""`bankdb migrate` alone leaves a database ready for today's writes: partitions and lookups."""

from __future__ import annotations

import datetime

import psycopg
import pytest

from bankdb import migrator

from ..conftest import PROJECT
from ..helpers import BCRYPT

QUIET = migrator.Session(lock_wait=5)


def window_end(conn: psycopg.Connection) -> datetime.date:
    """The last day of the last month of the window bank.partition_months_ahead() sets."""
    return conn.execute(
        "SELECT (date_trunc('month', current_date) + make_interval(months => bank.partition_months_ahead() + 1)"
        " - interval '1 day')::date"
    ).fetchone()[0]


def partitions(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'bank_partitions'::regnamespace AND relkind = 'r'"
        " ORDER BY 1"
    ).fetchall()]


def months(first: datetime.date, count: int) -> list[str]:
    return [f"transactions_{(first.year * 12 + first.month - 1 + i) // 12}_{(first.month - 1 + i) % 12 + 1:02d}"
            for i in range(count)]


def test_after_migrate_alone_the_application_writes_today_and_at_the_end_of_the_window(empty_db: str) -> None:
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    with psycopg.connect(empty_db) as conn:
        today = conn.execute("SELECT current_date").fetchone()[0]
        assert conn.execute("SELECT bank.partition_months_ahead()").fetchone()[0] == 3
        assert partitions(conn) == months(today.replace(day=1), 4)
        last = window_end(conn)
        assert conn.execute("SELECT count(*) FROM bank.currencies WHERE code IN ('USD', 'JPY', 'KWD')").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM bank.category_master WHERE name = 'Groceries'").fetchone()[0] == 1
        conn.execute("SET ROLE bank_app")
        user_id = conn.execute(
            "SELECT api.register_user('Ann', 'ann@example.com', %s, NULL, 'USD')", (BCRYPT,)
        ).fetchone()[0]
        conn.execute("SELECT api.set_user(%s)", (user_id,))
        account_id = conn.execute(
            "INSERT INTO bank.accounts (bank_name, account_type, masked_account, currency)"
            " VALUES ('Bank', 'checking', '****0001', 'USD') RETURNING id"
        ).fetchone()[0]
        for day in (today, last):
            conn.execute(
                "INSERT INTO bank.transactions (account_id, description, category, amount, currency, txn_type,"
                " txn_date) VALUES (%s, 'Market', 'Groceries', 12.34, 'USD', 'debit', %s)",
                (account_id, day),
            )
        assert conn.execute("SELECT txn_date FROM bank.transactions ORDER BY txn_date").fetchall() == [
            (today,), (last,)
        ]
        with pytest.raises(psycopg.errors.CheckViolation, match='no partition of relation "transactions" found'):
            conn.execute(
                "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                " VALUES (%s, 'Later', 1, 'USD', 'debit', %s)",
                (account_id, last + datetime.timedelta(days=1)),
            )


def test_a_migrate_with_nothing_to_do_still_adds_the_months_that_began_since(empty_db: str) -> None:
    migrator.migrate(PROJECT, empty_db, QUIET, out=lambda _: None)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        newest = partitions(conn)[-1]
        conn.execute(f"DROP TABLE bank_partitions.{newest}")  # as if the calendar moved a month on
    lines: list[str] = []
    migrator.migrate(PROJECT, empty_db, QUIET, out=lines.append)
    assert lines == ["Nothing to do: the database is up to date."]
    with psycopg.connect(empty_db) as conn:
        assert partitions(conn)[-1] == newest


def test_plan_shows_the_seeds_a_migrate_loads(empty_db: str) -> None:
    _, units = migrator.plan(PROJECT, empty_db)
    assert [u.label for u in units][-3:] == [
        "seeds/currencies.sql", "seeds/categories.sql", "seeds/partitions_ahead.sql",
    ]
