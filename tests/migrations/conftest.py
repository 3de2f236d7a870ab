"""A small world of two users for schema tests, and an insert helper that names columns."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest

from ..helpers import insert, user_row

@dataclass
class World:
    a: dict  # user A
    b: dict  # user B
    a_usd: dict  # A's USD checking account
    a_jpy: dict  # A's JPY account
    b_usd: dict  # B's USD account
    reward: dict = None  # A's Demo Miles program
    txn: dict = None  # A's transaction of 2025-03-05 (ext-1)
    tag: dict = None  # A's tag Trip, on txn
    other_tag: dict = None  # A's tag Work, on nothing

    def rows(self) -> dict[str, dict]:
        """A valid new row for every table, as column values (each test changes one thing)."""
        a = self.a["id"]
        return {
            "currencies": {"code": "ZZZ", "numeric_code": "999", "name": "Test", "minor_unit": 2},
            "exchange_rates": {
                "base_currency": "USD", "quote_currency": "EUR", "rate_date": "2025-03-01", "rate": "0.9",
            },
            "category_master": {"name": "Pets", "description": "Pet food", "icon": "paw", "color": "#123456"},
            "users": user_row("new@example.com"),
            "accounts": {
                "user_id": a, "bank_name": "Bank", "account_type": "savings", "masked_account": "****9999",
                "currency": "USD", "balance": "10.00",
            },
            "transactions": {
                "user_id": a, "account_id": self.a_usd["id"], "description": "Coffee", "category": "Groceries",
                "amount": "3.50", "currency": "USD", "txn_type": "debit", "merchant": "Cafe",
                "txn_date": "2025-03-05", "external_id": "ext-2",
            },
            "budgets": {"user_id": a, "month": 4, "year": 2025, "category": "Groceries", "limit_amount": "100"},
            "category_rules": {"user_id": a, "category": "Groceries", "keyword_pattern": "market"},
            "bills": {
                "user_id": a, "biller_name": "Power Co", "due_date": "2025-03-20", "amount_due": "80.00",
                "currency": "USD",
            },
            "rewards": {"user_id": a, "program_name": "Other Miles", "points_balance": 10},
            "alerts": {"user_id": a, "type": "low_balance", "message": "Balance below 100.00 USD"},
            "monthly_totals": {"user_id": a, "month": "2025-04-01", "category": "Groceries", "spending": "1.00"},
            "daily_flows": {"user_id": a, "account_id": self.a_usd["id"], "day": "2025-04-01", "currency": "USD",
                            "credits": "1.00"},
            "account_balances": {"user_id": a, "account_id": self.a_usd["id"], "day": "2025-04-01",
                                 "currency": "USD", "balance": "1.00"},
            "reward_entries": {"user_id": a, "reward_id": self.reward["id"], "entry_type": "earn", "points": 10},
            "admin_logs": {"admin_id": a, "action": "verified_user", "target_type": "User", "target_id": a},
            "import_batches": {"user_id": a, "account_id": self.a_usd["id"], "source": "march.csv",
                               "file_sha256": "b" * 64, "partial": False},
            "transaction_external_ids": {"user_id": a, "account_id": self.a_usd["id"], "external_id": "ext-9",
                                         "transaction_id": 1},
            "statements": {"user_id": a, "account_id": self.a_usd["id"], "period_start": "2025-03-01",
                           "period_end": "2025-03-31", "opening_balance": "10.00", "closing_balance": "13.50"},
            "recurring_candidates": {"user_id": a, "merchant_key": "streamflix", "recurrence": "monthly",
                                     "currency": "USD", "merchant": "StreamFlix", "typical_amount": "15.49",
                                     "occurrences": 3, "first_date": "2025-01-05", "last_date": "2025-03-05",
                                     "next_expected_date": "2025-04-05"},
            "tags": {"user_id": a, "name": "Holiday"},
            "transaction_tags": {"user_id": a, "txn_date": "2025-03-05",
                                 "transaction_id": self.txn and self.txn["id"],
                                 "tag_id": self.other_tag and self.other_tag["id"]},
            "transaction_splits": {"user_id": a, "txn_date": "2025-03-05",
                                   "transaction_id": self.txn and self.txn["id"], "line_no": 2,
                                   "category": "Shopping", "amount": "1.50"},
        }


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    a = insert(conn, "users", **user_row("alice@example.com"))
    b = insert(conn, "users", **user_row("bob@example.com"))
    account = {"bank_name": "Bank", "account_type": "checking", "balance": "0"}
    w = World(
        a=a,
        b=b,
        a_usd=insert(conn, "accounts", user_id=a["id"], masked_account="****0001", currency="USD", **account),
        a_jpy=insert(conn, "accounts", user_id=a["id"], masked_account="****0002", currency="JPY", **account),
        b_usd=insert(conn, "accounts", user_id=b["id"], masked_account="****0003", currency="USD", **account),
    )
    w.reward = insert(conn, "rewards", user_id=a["id"], program_name="Demo Miles")
    # One existing row in every other table, for the duplicate-key cases.
    rows = w.rows()
    insert(conn, "exchange_rates", **{**rows["exchange_rates"], "rate_date": "2025-02-01"})
    insert(conn, "exchange_rates", base_currency="USD", quote_currency="JPY", rate_date="2025-01-01", rate="150")
    w.txn = insert(conn, "transactions", **{**rows["transactions"], "external_id": "ext-1"})  # and its bank id
    w.tag = insert(conn, "tags", user_id=a["id"], name="Trip")
    w.other_tag = insert(conn, "tags", user_id=a["id"], name="Work")
    insert(conn, "transaction_tags", user_id=a["id"], txn_date="2025-03-05", transaction_id=w.txn["id"],
           tag_id=w.tag["id"])
    insert(conn, "transaction_splits", user_id=a["id"], txn_date="2025-03-05", transaction_id=w.txn["id"],
           line_no=1, category="Groceries", amount="2.00")
    insert(conn, "budgets", **{**rows["budgets"], "month": 3})
    insert(conn, "import_batches", **{**rows["import_batches"], "file_sha256": "a" * 64})
    insert(conn, "statements", **{**rows["statements"], "period_start": "2025-04-01", "period_end": "2025-04-30"})
    insert(conn, "recurring_candidates", **{**rows["recurring_candidates"], "recurrence": "yearly",
                                            "next_expected_date": "2026-03-05"})
    for table in ("category_rules", "bills", "admin_logs", "reward_entries"):
        insert(conn, table, **rows[table])
    insert(conn, "alerts", **{**rows["alerts"], "subject_id": w.a_usd["id"], "period": "2025-03-01"})
    return w
