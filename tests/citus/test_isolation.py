"""Row-level security on the distributed database (issue 14): the catalog-generated isolation cases
of tests/security/test_isolation.py, run against the Citus coordinator. The relations come from the
catalog there, so a table or view added later is covered here too.

Two users with a row of their own in every user-owned table (tests/security/conftest.py's populate),
made before `bankdb distribute` (which moves rows that are there), then distributed."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from bankdb import migrator

from ..conftest import PARTITIONS, PROJECT
from ..security import test_isolation as isolation
from ..security.conftest import SHARED_TABLES, acting, populate, relations  # noqa: F401 - relations: a fixture
from . import data
from .conftest import Cluster, create_database, drop_database, new_db_name


@pytest.fixture(scope="module")
def two_users(cluster: Cluster) -> Iterator[tuple[str, tuple[dict, dict]]]:
    name = new_db_name("bankdb_citus")
    create_database(cluster, name)
    try:
        conninfo = cluster.conninfo(name)
        migrator.migrate(PROJECT, conninfo, out=lambda _: None)
        with psycopg.connect(conninfo) as conn:
            conn.execute("SELECT bank.create_transaction_partitions(%s, %s)", PARTITIONS)
            conn.execute("INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)"
                         " VALUES ('EUR', 'USD', '2025-01-01', 1.1)")
            users = populate(conn, "a@example.com", "USD"), populate(conn, "b@example.com", "EUR")
        data.distribute(conninfo)
        yield conninfo, users
    finally:
        drop_database(cluster, name)


@pytest.fixture
def conn(two_users: tuple[str, tuple[dict, dict]]) -> Iterator[psycopg.Connection]:
    """A connection to the distributed database in a transaction rolled back after the test."""
    with psycopg.connect(two_users[0]) as connection:
        try:
            yield connection
        finally:
            connection.rollback()


@pytest.fixture
def users(two_users: tuple[str, tuple[dict, dict]]) -> tuple[dict, dict]:
    return two_users[1]


test_every_table_is_either_user_owned_behind_row_security_or_known_shared = \
    isolation.test_every_table_is_either_user_owned_behind_row_security_or_known_shared
test_without_an_acting_user_nothing_is_visible = isolation.test_without_an_acting_user_nothing_is_visible
test_an_inserted_row_belongs_to_the_acting_user_without_naming_it = \
    isolation.test_an_inserted_row_belongs_to_the_acting_user_without_naming_it
test_a_write_without_an_acting_user_fails_clearly = isolation.test_a_write_without_an_acting_user_fails_clearly
test_partitions_cannot_be_reached_around_their_parent = isolation.test_partitions_cannot_be_reached_around_their_parent
test_the_acting_user_is_transaction_local = isolation.test_the_acting_user_is_transaction_local


def test_a_user_sees_exactly_that_users_rows_in_every_relation(conn, users, relations) -> None:
    """The single-server case deletes B and reads again as A in one rolled-back transaction; Citus
    cannot read as bank_app placements the transaction changed as another role ("cannot perform query
    on placements that were modified in this transaction by a different user"). Here what A sees of
    every relation the catalog lists is compared with that relation's rows of A's as the superuser
    reads them (all of a shared table's), and B has rows in every user-owned table."""
    a, _ = users
    with acting(conn, "bank_app", a["user"]):
        seen = isolation.everything(conn, relations())
    expected = {}
    for relation in relations():
        if seen[relation] == "denied":  # the admins' views and audit trail: not bank_app's to read
            expected[relation] = "denied"
            continue
        if relation in SHARED_TABLES:
            rows = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.SQL(relation)))
        else:
            owner = sql.Identifier("id" if relation == "bank.users" else "user_id")
            rows = conn.execute(sql.SQL("SELECT * FROM {} WHERE {} = %s").format(sql.SQL(relation), owner), (a["user"],))
        expected[relation] = sorted(rows.fetchall(), key=repr)
    assert seen == expected
    assert sum(1 for rows in seen.values() if rows and rows != "denied") > 15  # A has rows to see almost everywhere
    isolation.both_users_have_rows_everywhere_and_a_sees_only_a(conn, users)


def refused_on_citus(error: psycopg.Error, query: str) -> bool:
    """Refusals on one server, and Citus's own for moving a row to another user: it never changes
    the distribution column (0A000), so A's row cannot become B's."""
    return isolation.privilege_refused(error, query) or (
        isinstance(error, psycopg.errors.FeatureNotSupported)
        and error.diag.message_primary == "modifying the partition value of rows is not allowed"
        and query.startswith("UPDATE ") and " SET user_id = %(b)s " in query
    )


@pytest.mark.parametrize("role", ["bank_app", "bank_readonly"])
def test_no_write_can_read_change_or_create_another_users_rows(conn, users, role: str) -> None:
    # Every attempt was refused or touched no row, so committing changes nothing; a hole would be
    # committed, and seen in the comparison after (the database is this module's).
    isolation.no_write_can_read_change_or_create_another_users_rows(
        conn, users, role, refused_on_citus, settle=lambda c: c.commit()
    )


def test_foreign_keys_cannot_reach_another_users_rows(conn, users) -> None:
    isolation.test_foreign_keys_cannot_reach_another_users_rows(conn, users)
