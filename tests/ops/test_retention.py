"""Old partitions leave only after their archive is proven; the totals of their months stay."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import psycopg
import pytest

from bankdb import retention

from ..helpers import add_txn, insert, make_account, make_user


@pytest.mark.parametrize(("today", "keep", "first"), [
    ("2025-06-15", 3, "2025-04-01"), ("2025-01-31", 2, "2024-12-01"), ("2025-03-01", 1, "2025-03-01"),
])
def test_keeping_n_months_keeps_this_month_and_the_ones_before(today: str, keep: int, first: str) -> None:
    assert retention.first_kept_month(keep, datetime.date.fromisoformat(today)) == datetime.date.fromisoformat(first)


def test_old_partitions_are_archived_verified_and_dropped_and_their_totals_stay(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        account = make_account(conn, make_user(conn, "old@example.com")["id"])
        for day, amount in (("2025-02-03", "10.00"), ("2025-02-20", "5.50"), ("2025-05-05", "7.25")):
            add_txn(conn, account, amount, txn_date=day, category="Groceries")
        insert(conn, "budgets", user_id=account["user_id"], year=2025, month=2, category="Groceries", limit_amount="100")
        totals_before = conn.execute("SELECT * FROM bank.monthly_totals ORDER BY 1, 2, 3").fetchall()
    archived = retention.archive_partitions(db, 3, tmp_path, today=datetime.date(2025, 6, 15), out=lambda _: None)
    assert [p.name for p in archived] == ["transactions_2025_01.copy", "transactions_2025_02.copy",
                                          "transactions_2025_03.copy"]
    assert json.loads((tmp_path / "transactions_2025_02.json").read_text())["rows"] == 2
    with psycopg.connect(db, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('bank_partitions.transactions_2025_02')").fetchone()[0] is None
        assert conn.execute("SELECT bank.transaction_history_start()").fetchone()[0] == datetime.date(2025, 4, 1)
        assert conn.execute("SELECT * FROM bank.monthly_totals ORDER BY 1, 2, 3").fetchall() == totals_before
        assert conn.execute("SELECT spent_amount FROM bank.budgets").fetchone()[0] == 15.5
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        # A month comes back from its archive.
        conn.execute("SELECT bank.create_transaction_partitions('2025-02-01', '2025-02-28')")
        with (tmp_path / "transactions_2025_02.copy").open("rb") as f, \
                conn.cursor().copy("COPY bank_partitions.transactions_2025_02 FROM STDIN") as copy:
            copy.write(f.read())
        assert conn.execute("SELECT sum(amount) FROM bank.transactions WHERE txn_date < '2025-03-01'").fetchone()[0] == 15.5
