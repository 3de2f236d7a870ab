"""A user with two accounts, for the tests of the stored logic."""

from __future__ import annotations

import psycopg
import pytest

from ..helpers import make_account, make_user


@pytest.fixture
def user(conn: psycopg.Connection) -> dict:
    """A USD user with a checking account (****0001, 500.00) and a savings account (****2222)."""
    u = make_user(conn, "user@example.com")
    u["checking"] = make_account(conn, u["id"], balance="500.00")
    u["savings"] = make_account(conn, u["id"], masked_account="****2222", account_type="savings")
    return u
