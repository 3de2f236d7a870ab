"""Two users with a row of their own in every user-owned table, and a way to act as a role for one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from ..helpers import add_txn, insert, make_account, make_user

# Tables every user may read that hold no user's data, and the admin-only audit trail.
SHARED_TABLES = {"bank.currencies", "bank.exchange_rates", "bank.category_master", "bank.admin_logs"}


@contextmanager
def acting(conn: psycopg.Connection, role: str, user_id: int | None) -> Iterator[None]:
    """Run as `role` acting for `user_id`, inside a savepoint that is rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {role}")
        if user_id is not None:
            conn.execute("SELECT api.set_user(%s)", (user_id,))
        yield


def populate(conn: psycopg.Connection, email: str, base: str) -> dict:
    """One row in every user-owned table for a new user; returns the ids."""
    user = make_user(conn, email, base)
    account = make_account(conn, user["id"], base, low_balance_threshold="10", balance="100")
    txn = add_txn(conn, account, "12.00", category="Groceries", external_id=f"ext-{email}")
    budget = insert(conn, "budgets", user_id=user["id"], year=2025, month=3, category="Groceries", limit_amount="10")
    rule = insert(conn, "category_rules", user_id=user["id"], category="Shopping", keyword_pattern="shop")
    bill = insert(conn, "bills", user_id=user["id"], biller_name="Power", due_date="2025-03-20", amount_due="5",
                  currency=base)
    reward = insert(conn, "rewards", user_id=user["id"], program_name="Miles")
    tag = insert(conn, "tags", user_id=user["id"], name="Trip")
    insert(conn, "transaction_tags", user_id=user["id"], txn_date=txn["txn_date"], transaction_id=txn["id"],
           tag_id=tag["id"])
    for line_no, category, amount in ((1, "Groceries", "7.00"), (2, "Shopping", "5.00")):
        insert(conn, "transaction_splits", user_id=user["id"], txn_date=txn["txn_date"], transaction_id=txn["id"],
               line_no=line_no, category=category, amount=amount)
    insert(conn, "reward_entries", user_id=user["id"], reward_id=reward["id"], entry_type="earn", points=50)
    conn.execute("UPDATE bank.accounts SET balance = 1 WHERE id = %s", (account["id"],))  # a low_balance alert
    conn.execute("SELECT api.set_user(%s)", (user["id"],))  # an import batch, acting for the user
    conn.execute(
        "SELECT api.import_transactions(%s, %s::jsonb, 'test.csv')",
        (account["id"], f'[{{"txn_date": "2025-03-07", "amount": "-4.00", "description": "Import",'
                        f' "external_id": "imp-{email}"}}]'),
    )
    conn.execute("SELECT set_config('app.user_id', '', TRUE)")
    statement = insert(conn, "statements", user_id=user["id"], account_id=account["id"], period_start="2025-03-01",
                       period_end="2025-03-31", opening_balance="100", closing_balance="84")
    insert(conn, "recurring_candidates", user_id=user["id"], merchant_key="gym", recurrence="weekly",
           currency=base, merchant="Gym", typical_amount="12", occurrences=4, first_date="2025-03-01",
           last_date="2025-03-22", next_expected_date="2025-03-29")
    return {"user": user["id"], "account": account["id"], "txn": txn["id"], "budget": budget["id"],
            "rule": rule["id"], "bill": bill["id"], "reward": reward["id"], "statement": statement["id"],
            "tag": tag["id"], "txn_date": txn["txn_date"].isoformat()}


@pytest.fixture
def users(conn: psycopg.Connection) -> tuple[dict, dict]:
    conn.execute(
        "INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate) VALUES ('EUR', 'USD', '2025-01-01', 1.1)"
    )
    return populate(conn, "a@example.com", "USD"), populate(conn, "b@example.com", "EUR")


@pytest.fixture
def relations(conn: psycopg.Connection) -> Callable[[], list[str]]:
    def listing() -> list[str]:
        return [r[0] for r in conn.execute(
            """
            SELECT c.oid::regclass::text FROM pg_class AS c
            WHERE c.relnamespace IN ('bank'::regnamespace, 'api'::regnamespace)
              AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
            ORDER BY 1
            """
        ).fetchall()]
    return listing
