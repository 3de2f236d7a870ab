"""Lookups and the demo data set."""

from __future__ import annotations

import psycopg
import pytest

from bankdb import seed

from .conftest import PROJECT


def test_the_iso_4217_currencies_with_their_minor_units(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT count(*) FROM bank.currencies").fetchone()[0] == 165
    units = dict(conn.execute(
        "SELECT code, minor_unit FROM bank.currencies WHERE code IN ('USD', 'EUR', 'JPY', 'KWD', 'CLF')"
    ).fetchall())
    assert units == {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "CLF": 4}


def test_the_seed_documents_ten_categories(conn: psycopg.Connection) -> None:
    names = [r[0] for r in conn.execute("SELECT name FROM bank.category_master ORDER BY id").fetchall()]
    assert names == [
        "Groceries", "Utilities", "Entertainment", "Transportation", "Healthcare", "Shopping", "Subscriptions",
        "Salary", "Transfer", "Other",
    ]


def counts(conninfo: str) -> dict[str, int]:
    tables = ("users", "accounts", "transactions", "budgets", "bills", "rewards", "currencies", "category_master")
    with psycopg.connect(conninfo) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM bank.{t}").fetchone()[0] for t in tables}


def test_demo_data_loads_and_reloads_without_duplicates(db: str) -> None:
    seed.seed(PROJECT, db, demo=True, out=lambda _: None)
    first = counts(db)
    seed.seed(PROJECT, db, demo=True, out=lambda _: None)
    assert counts(db) == first
    assert {k: first[k] for k in ("users", "accounts", "budgets", "bills", "rewards")} == {
        "users": 3, "accounts": 6, "budgets": 9, "bills": 12, "rewards": 3,
    }
    assert first["transactions"] == 4 * 40 + 3 * 3  # 40 purchases per checking/card account, 3 salaries


def test_seed_refuses_a_database_that_is_not_migrated(empty_db: str) -> None:
    with pytest.raises(seed.NotMigrated, match="run `bankdb migrate` first"):
        seed.seed(PROJECT, empty_db, out=lambda _: None)
