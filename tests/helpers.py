"""Row helpers shared by the tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

import psycopg
from psycopg import sql

T = TypeVar("T")

BCRYPT = "$2b$12$" + "N" * 53  # a well-formed bcrypt hash of no known password


def insert(conn: psycopg.Connection, table: str, **values) -> dict:
    """INSERT one row into bank.<table> and return it; an explicit id overrides the identity."""
    columns = list(values)
    query = sql.SQL("INSERT INTO {} ({}) {} VALUES ({}) RETURNING *").format(
        sql.Identifier("bank", table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL("OVERRIDING SYSTEM VALUE" if "id" in values else ""),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(query, list(values.values())).fetchone()


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("bank", table))).fetchone()[0]


def user_row(email: str, **overrides) -> dict:
    return {"name": "Test User", "email": email, "password": BCRYPT, **overrides}


def make_user(conn: psycopg.Connection, email: str, base_currency: str = "USD", **overrides) -> dict:
    return insert(conn, "users", **user_row(email, base_currency=base_currency, **overrides))


def make_account(conn: psycopg.Connection, user_id: int, currency: str = "USD", **overrides) -> dict:
    values = {"bank_name": "Bank", "account_type": "checking", "masked_account": "****0001", **overrides}
    return insert(conn, "accounts", user_id=user_id, currency=currency, **values)


def add_txn(conn: psycopg.Connection, account: dict, amount: str, txn_type: str = "debit",
            txn_date: str = "2025-03-05", **overrides) -> dict:
    values = {"description": "Purchase", "currency": account["currency"], **overrides}
    return insert(
        conn, "transactions", user_id=account["user_id"], account_id=account["id"], amount=amount,
        txn_type=txn_type, txn_date=txn_date, **values,
    )


def value(conn: psycopg.Connection, query: str, params: tuple | dict = ()) -> object:
    """The single value a query returns."""
    return conn.execute(query, params).fetchone()[0]


def in_parallel(work: Callable[[T], object], args: Iterable[T]) -> list[BaseException]:
    """Runs work(arg) for every arg, each in a thread of its own, all at once; returns what they raised."""
    errors: list[BaseException] = []

    def run(arg: T) -> None:
        try:
            work(arg)
        except BaseException as exc:  # noqa: BLE001 - returned, for the test to assert on
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
