"""As bank_app acting for user A, nothing of user B's is visible or writable: every table and view.

The relations come from the catalog, so a table or view added later is covered, and a user-owned
table without row-level security, or a table that is neither user-owned nor known to be shared,
fails here.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from .conftest import SHARED_TABLES, acting

# A valid new row per user-owned table, for the acting user A (user_id is added per test).
NEW_ROWS = {
    "bank.accounts": lambda a: {"bank_name": "Bank", "account_type": "savings", "masked_account": "****7777",
                                "currency": "USD"},
    "bank.transactions": lambda a: {"account_id": a["account"], "description": "x", "amount": "1.00",
                                    "currency": "USD", "txn_type": "debit", "txn_date": "2025-03-06"},
    "bank.budgets": lambda a: {"year": 2025, "month": 4, "category": "Shopping", "limit_amount": "5"},
    "bank.monthly_totals": lambda a: {"month": "2025-04-01", "category": "Shopping"},
    "bank.daily_flows": lambda a: {"account_id": a["account"], "day": "2025-04-01", "currency": "USD"},
    "bank.account_balances": lambda a: {"account_id": a["account"], "day": "2025-04-01", "currency": "USD",
                                        "balance": "1"},
    "bank.category_rules": lambda a: {"category": "Groceries", "keyword_pattern": "x"},
    "bank.bills": lambda a: {"biller_name": "Gas", "due_date": "2025-03-25", "amount_due": "1", "currency": "USD"},
    "bank.rewards": lambda a: {"program_name": "Points"},
    "bank.reward_entries": lambda a: {"reward_id": a["reward"], "entry_type": "earn", "points": 1},
    "bank.alerts": lambda a: {"type": "bill_due", "message": "x"},
    "bank.import_batches": lambda a: {"account_id": a["account"], "source": "x.csv", "partial": False},
    "bank.transaction_external_ids": lambda a: {"account_id": a["account"], "external_id": "x",
                                                "transaction_id": a["txn"]},
    "bank.statements": lambda a: {"account_id": a["account"], "period_start": "2025-06-01", "period_end": "2025-06-30",
                                  "opening_balance": "0", "closing_balance": "0"},
    "bank.recurring_candidates": lambda a: {"merchant_key": "x", "recurrence": "monthly", "currency": "USD",
                                            "merchant": "x", "typical_amount": "1", "occurrences": 3,
                                            "first_date": "2025-01-01", "last_date": "2025-03-01",
                                            "next_expected_date": "2025-04-01"},
    "bank.tags": lambda a: {"name": "Holiday"},
    "bank.transaction_tags": lambda a: {"txn_date": a["txn_date"], "transaction_id": a["txn"], "tag_id": a["tag"]},
    "bank.transaction_splits": lambda a: {"txn_date": a["txn_date"], "transaction_id": a["txn"], "line_no": 3,
                                          "category": "Other", "amount": "1.00"},
}


def user_owned(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class AS c
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
        WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY 1
        """
    ).fetchall()]


def read(conn: psycopg.Connection, relation: str) -> list[tuple] | str:
    """Every row of a relation in a fixed order, or 'denied' when the role may not read it."""
    try:
        with conn.transaction():
            return sorted(conn.execute(f"SELECT * FROM {relation}").fetchall(), key=repr)
    except psycopg.errors.InsufficientPrivilege:
        return "denied"


def everything(conn: psycopg.Connection, relations: list[str]) -> dict:
    return {relation: read(conn, relation) for relation in relations}


def test_every_table_is_either_user_owned_behind_row_security_or_known_shared(conn, relations) -> None:
    tables = [r[0] for r in conn.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        """
    ).fetchall()]
    owned = set(user_owned(conn)) | {"bank.users"}
    assert set(tables) - owned - SHARED_TABLES == set()
    # The acting-user check guards exactly the tables bank_app may write (monthly_totals, the daily flows,
    # the reported balances, the recurring candidates and the bank ids it only reads).
    unprotected = conn.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.oid = ANY(%s::regclass[])
          AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                   AND EXISTS (SELECT FROM pg_policy AS p WHERE p.polrelid = c.oid AND p.polname = 'acting_user')
                   AND EXISTS (SELECT FROM pg_trigger AS t
                               WHERE t.tgrelid = c.oid AND t.tgname = '_050_require_acting_user')
                       = (has_table_privilege('bank_app', c.oid, 'INSERT, UPDATE, DELETE')
                          OR has_any_column_privilege('bank_app', c.oid, 'INSERT, UPDATE')))
        """,
        (sorted(owned),),
    ).fetchall()
    assert unprotected == []
    read_only = conn.execute(
        "SELECT array_agg(c.oid::regclass::text) FROM pg_class AS c WHERE c.oid = ANY(%s::regclass[])"
        " AND NOT EXISTS (SELECT FROM pg_trigger AS t WHERE t.tgrelid = c.oid AND t.tgname = '_050_require_acting_user')",
        (sorted(owned),),
    ).fetchone()[0]
    assert sorted(read_only) == [
        "bank.account_balances", "bank.daily_flows", "bank.monthly_totals", "bank.recurring_candidates",
        "bank.transaction_external_ids",
    ]
    assert set(user_owned(conn)) == set(NEW_ROWS)  # every user-owned table is exercised below


def delete_user(conn: psycopg.Connection, user_id: int) -> None:
    conn.execute("DELETE FROM bank.users WHERE id = %s", (user_id,))  # the user and all the user's rows gone


def no_row_of_another_user_is_visible_anywhere(
    conn: psycopg.Connection, users, relations, remove: Callable[[psycopg.Connection, int], None] = delete_user
) -> None:
    """What A sees everywhere is what A sees once B and B's rows are gone (`remove`, undone after)."""
    a, b = users
    with acting(conn, "bank_app", a["user"]):
        seen = everything(conn, relations())
    with conn.transaction(force_rollback=True):
        remove(conn, b["user"])
        with acting(conn, "bank_app", a["user"]):
            without_b = everything(conn, relations())
    assert seen == without_b
    both_users_have_rows_everywhere_and_a_sees_only_a(conn, users)


def both_users_have_rows_everywhere_and_a_sees_only_a(conn: psycopg.Connection, users) -> None:
    a, b = users
    owners = "SELECT array_agg(DISTINCT user_id ORDER BY user_id) FROM {}"
    for relation in user_owned(conn):  # both users really have rows there, and A sees only A's
        assert conn.execute(sql.SQL(owners).format(sql.SQL(relation))).fetchone()[0] == [a["user"], b["user"]]
        with acting(conn, "bank_app", a["user"]):
            assert conn.execute(sql.SQL(owners).format(sql.SQL(relation))).fetchone()[0] == [a["user"]]


def test_no_row_of_another_user_is_visible_anywhere(conn, users, relations) -> None:
    no_row_of_another_user_is_visible_anywhere(conn, users, relations)


def test_without_an_acting_user_nothing_is_visible(conn, users, relations) -> None:
    with acting(conn, "bank_app", None):
        seen = everything(conn, relations())
    shared = {r for r in seen if r in SHARED_TABLES}
    assert {r: rows for r, rows in seen.items() if r not in shared and rows not in ([], "denied")} == {}


def privilege_refused(error: psycopg.Error, query: str) -> bool:
    return isinstance(error, psycopg.errors.InsufficientPrivilege)  # row-level security (42501) or no privilege


def no_write_can_read_change_or_create_another_users_rows(
    conn: psycopg.Connection, users, role: str, refused: Callable[[psycopg.Error, str], bool] = privilege_refused,
    settle: Callable[[psycopg.Connection], None] = lambda _: None,
) -> None:
    """As `role` acting for A, every update and delete of B's rows touches none, and every insert of a
    row for B and move of A's row to B is refused (`refused` says which errors are refusals).
    `settle` runs before the rows are read again as the superuser (on Citus: a commit, since there a
    transaction may not read as another role placements it wrote to as `role`)."""
    a, b = users
    before = everything(conn, user_owned(conn) + ["bank.users"])
    holes: list[str] = []
    with acting(conn, role, a["user"]):
        for table in user_owned(conn) + ["bank.users"]:
            key = "id" if table == "bank.users" else "user_id"
            column = "name" if table == "bank.users" else "user_id"
            for statement in (
                f"UPDATE {table} SET {column} = {column} WHERE {key} = %(b)s",
                f"DELETE FROM {table} WHERE {key} = %(b)s",
            ):
                try:
                    with conn.transaction():
                        assert conn.execute(statement, {"b": b["user"]}).rowcount == 0, statement
                except psycopg.Error as error:
                    if not refused(error, statement):
                        raise
            if table == "bank.users":
                continue
            attempts = [  # create a row for B; move one of A's rows to B
                (f"INSERT INTO {table} (user_id, {{}}) VALUES (%(b)s, {{}})", NEW_ROWS[table](a)),
                (f"UPDATE {table} SET user_id = %(b)s WHERE user_id = %(a)s", None),
            ]
            for template, row in attempts:
                query = template if row is None else template.format(
                    ", ".join(row), ", ".join(f"%({c})s" for c in row)
                )
                try:
                    with conn.transaction():
                        conn.execute(query, {"a": a["user"], "b": b["user"], **(row or {})})
                    holes.append(f"{table}: {query}")  # accepted: a hole
                except psycopg.Error as error:
                    if not refused(error, query):
                        raise
    assert holes == []
    settle(conn)
    assert everything(conn, user_owned(conn) + ["bank.users"]) == before


@pytest.mark.parametrize("role", ["bank_app", "bank_readonly"])
def test_no_write_can_read_change_or_create_another_users_rows(conn, users, role: str) -> None:
    no_write_can_read_change_or_create_another_users_rows(conn, users, role)


def test_foreign_keys_cannot_reach_another_users_rows(conn, users) -> None:
    a, b = users
    with acting(conn, "bank_app", a["user"]):
        for table, row in (
            ("bank.transactions", {**NEW_ROWS["bank.transactions"](a), "account_id": b["account"]}),
            ("bank.reward_entries", {**NEW_ROWS["bank.reward_entries"](a), "reward_id": b["reward"]}),
            ("bank.statements", {**NEW_ROWS["bank.statements"](a), "account_id": b["account"]}),
            ("bank.transaction_tags", {**NEW_ROWS["bank.transaction_tags"](a), "tag_id": b["tag"]}),
            ("bank.transaction_tags", {**NEW_ROWS["bank.transaction_tags"](a), "transaction_id": b["txn"],
                                       "txn_date": b["txn_date"]}),
        ):
            with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(f'%({c})s' for c in row)})", row
                )
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("UPDATE bank.transactions SET account_id = %s", (b["account"],))


def test_an_inserted_row_belongs_to_the_acting_user_without_naming_it(conn, users) -> None:
    a, _ = users
    with acting(conn, "bank_app", a["user"]):
        row = NEW_ROWS["bank.category_rules"](a)
        owner = conn.execute(
            "INSERT INTO bank.category_rules (category, keyword_pattern) VALUES (%(category)s, %(keyword_pattern)s)"
            " RETURNING user_id", row
        ).fetchone()[0]
    assert owner == a["user"]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO bank.category_rules (category, keyword_pattern) VALUES ('Groceries', 'x')",
        "UPDATE bank.accounts SET balance = 0",
        "DELETE FROM bank.transactions",
    ],
)
def test_a_write_without_an_acting_user_fails_clearly(conn, users, statement: str) -> None:
    with acting(conn, "bank_app", None):
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute(statement)
    assert failure.value.sqlstate == "BKUS1"
    assert failure.value.diag.message_primary.startswith(
        "no acting user: call api.set_user(user_id) in this transaction"
    )


def test_partitions_cannot_be_reached_around_their_parent(conn, users) -> None:
    partition = conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'bank.transactions'::regclass LIMIT 1"
    ).fetchone()[0]
    for role in ("bank_app", "bank_readonly", "bank_admin"):
        with acting(conn, role, users[0]["user"]):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for schema"), \
                    conn.transaction():
                conn.execute(f"SELECT * FROM {partition}")


def test_the_acting_user_is_transaction_local(conn, users) -> None:
    a, _ = users
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT api.set_user(%s)", (a["user"],))
        assert conn.execute("SELECT api.current_user_id()").fetchone()[0] == a["user"]
    assert conn.execute("SELECT api.current_user_id()").fetchone()[0] is None
