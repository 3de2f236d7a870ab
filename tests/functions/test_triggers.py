"""updated_at, and the monthly partitions of bank.transactions."""

from __future__ import annotations

import psycopg
import pytest

from ..helpers import BCRYPT, insert


def test_updated_at_follows_a_change_and_ignores_a_no_op(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        user = insert(conn, "users", name="Ann", email="ann@example.com", password=BCRYPT)
        conn.execute("UPDATE bank.users SET name = name WHERE id = %s", (user["id"],))
        same = conn.execute("SELECT updated_at FROM bank.users WHERE id = %s", (user["id"],)).fetchone()[0]
        conn.execute("UPDATE bank.users SET name = 'Ann B' WHERE id = %s", (user["id"],))
        changed = conn.execute("SELECT updated_at FROM bank.users WHERE id = %s", (user["id"],)).fetchone()[0]
        reward = insert(conn, "rewards", user_id=user["id"], program_name="Miles")
        conn.execute("UPDATE bank.rewards SET points_balance = 5 WHERE id = %s", (reward["id"],))
        touched = conn.execute("SELECT last_updated FROM bank.rewards WHERE id = %s", (reward["id"],)).fetchone()[0]
    assert same == user["updated_at"]
    assert changed > user["updated_at"]
    assert touched > reward["last_updated"]


def test_partitions_are_created_once_per_month_with_their_indexes_named_after_the_parents(
    conn: psycopg.Connection,
) -> None:
    created = conn.execute("SELECT bank.create_transaction_partitions('2037-01-15', '2037-03-01')").fetchone()[0]
    again = conn.execute("SELECT bank.create_transaction_partitions('2037-01-01', '2037-03-31')").fetchone()[0]
    assert (created, again) == (3, 0)
    indexes = conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'transactions_2037_02' ORDER BY 1"
    ).fetchall()
    assert [i[0] for i in indexes] == [
        "transactions_2037_02_account_id_external_id_key",
        "transactions_2037_02_pkey",
        "transactions_2037_02_user_id_account_id_txn_date_idx",
        "transactions_2037_02_user_id_description_merchant_idx",
    ]
    bounds = conn.execute(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'transactions_2037_02'"
    ).fetchone()[0]
    assert bounds == "FOR VALUES FROM ('2037-02-01') TO ('2037-03-01')"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-03-01", "2025-02-01", "partition range starts after it ends (from 2025-03-01, to 2025-02-01)"),
        ("2025-01-01", "2125-01-01", "partition range over 100 years (from 2025-01-01, to 2125-01-01): surely a mistake"),
    ],
)
def test_a_bad_partition_range_is_rejected(conn: psycopg.Connection, start: str, end: str, message: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue) as failure, conn.transaction():
        conn.execute("SELECT bank.create_transaction_partitions(%s, %s)", (start, end))
    assert failure.value.diag.message_primary == message


def test_a_transaction_in_a_month_without_partition_is_rejected(conn: psycopg.Connection) -> None:
    user = insert(conn, "users", name="Ann", email="ann@example.com", password=BCRYPT)
    account = insert(
        conn, "accounts", user_id=user["id"], bank_name="B", account_type="checking",
        masked_account="****1234", currency="USD",
    )
    with pytest.raises(psycopg.errors.CheckViolation, match='no partition of relation "transactions" found for row'), \
            conn.transaction():
        insert(
            conn, "transactions", user_id=user["id"], account_id=account["id"], description="x", amount="1.00",
            currency="USD", txn_type="debit", txn_date="2031-05-05",
        )
