"""Two databases of one cluster share the roles: rolling back V005 in one leaves the other alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bankdb import doctor, migrator

from ..conftest import PROJECT, database

QUIET = migrator.Session(lock_wait=5)
EVERYTHING = doctor.Limits(unused_index_min_bytes=1 << 40)


def migrated(server) -> Iterator[str]:
    for conninfo in database(server, None):
        migrator.migrate(PROJECT, conninfo, QUIET, out=lambda _: None)
        yield conninfo


@pytest.fixture
def ours(server) -> Iterator[str]:
    yield from migrated(server)


@pytest.fixture
def theirs(server) -> Iterator[str]:
    yield from migrated(server)


@pytest.fixture
def app_login(server) -> Iterator[tuple[str, str]]:
    """A member of bank_app that logs in with a password: (name, password)."""
    name, password = f"dashboard_{secrets.token_hex(4)}", secrets.token_hex(8)
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE bank_app")
    yield name, password
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE {name}")


def as_login(conninfo: str, login: tuple[str, str]) -> str:
    return make_conninfo(**{**conninfo_to_dict(conninfo), "user": login[0], "password": login[1]})


def database_acl(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT datacl::text FROM pg_database WHERE datname = current_database()").fetchone()[0]


def test_rolling_back_v005_here_leaves_the_other_databases_logins_alone(
    ours: str, theirs: str, app_login: tuple[str, str]
) -> None:
    acl = database_acl(theirs)
    assert "bank_app=c/" in acl and "=Tc/" not in acl  # V005's own: CONNECT for the roles, not PUBLIC
    migrator.rollback(PROJECT, ours, steps=None, to="V004_alerts_and_audit", session=QUIET, out=lambda _: None)
    assert database_acl(theirs) == acl
    with psycopg.connect(as_login(theirs, app_login)) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == app_login[0]
    assert doctor.examine(theirs, EVERYTHING) == {name: [] for name, _ in doctor.CHECKS}
    with psycopg.connect(ours) as conn:  # the roles stay (the other database uses them); none keeps a grant here
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bank\\_%'").fetchone()[0] == 6
        assert conn.execute(
            """
            SELECT count(*) FROM pg_shdepend AS d
            WHERE d.refobjid IN (SELECT oid FROM pg_roles WHERE rolname LIKE 'bank\\_%')
              AND (d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   OR d.objid = (SELECT oid FROM pg_database WHERE datname = current_database()))
            """
        ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_policy").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_default_acl").fetchone()[0] == 0
    migrator.migrate(PROJECT, ours, QUIET, out=lambda _: None)
    assert doctor.examine(ours, EVERYTHING) == {name: [] for name, _ in doctor.CHECKS}
    with psycopg.connect(as_login(ours, app_login)) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == app_login[0]
