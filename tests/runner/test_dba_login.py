"""The README's DBA login (a bank_migrator member) migrates from the CLI, with the one-time grants
a superuser gives it (NOTES-dba.md; they differ before and after PostgreSQL 16's CREATEROLE change)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bankdb.settings import Project

from ..conftest import REPO, database
from .test_cli import bankdb


def one_time_grants(login: str, password: str, server_version: int) -> list[str]:
    """What a superuser runs once per DBA login, exactly as documented."""
    if server_version >= 16:
        # CREATEROLE alone no longer lets a login comment on or grant a role it was not given
        # ADMIN OPTION on; V005 does both (COMMENT ON ROLE, GRANT bank_owner TO bank_migrator).
        return [
            f"CREATE ROLE {login} LOGIN CREATEROLE PASSWORD '{password}'",
            f"GRANT bank_migrator TO {login} WITH ADMIN OPTION",
            f"GRANT bank_owner, bank_app, bank_admin, bank_readonly, bank_backup TO {login}"
            " WITH ADMIN OPTION, INHERIT FALSE, SET FALSE",
        ]
    return [f"CREATE ROLE {login} LOGIN CREATEROLE PASSWORD '{password}' IN ROLE bank_migrator"]


def make_login(server, statements: list[str]) -> None:
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def dba(server, template: str) -> Iterator[tuple[str, str]]:  # the template made the roles
    """The DBA login; each test creates it (make_login) with the statements its case needs."""
    login, password = f"alice_dba_{secrets.token_hex(4)}", secrets.token_hex(8)
    yield login, password
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {login}")  # its grants in the maintenance database, if any
        conn.execute(f"DROP ROLE {login}")


@pytest.fixture
def fresh_db_of_dba(server, dba: tuple[str, str]) -> Iterator[str]:
    make_login(server, one_time_grants(*dba, server.version))
    for conninfo in database(server, None):
        name = conninfo_to_dict(conninfo)["dbname"]
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} OWNER TO {dba[0]}")
        yield conninfo


def as_dba(conninfo: str, dba: tuple[str, str]) -> str:
    return make_conninfo(**{**conninfo_to_dict(conninfo), "user": dba[0], "password": dba[1]})


def test_the_dba_login_migrates_a_fresh_database_it_owns(fresh_db_of_dba: str, dba: tuple[str, str]) -> None:
    url = as_dba(fresh_db_of_dba, dba)
    migrate = bankdb("migrate", url=url)
    assert migrate.returncode == 0, migrate.stderr
    assert "Traceback" not in migrate.stderr
    status = bankdb("status", url=url)
    assert (status.returncode, status.stderr) == (0, "")
    assert status.stdout.splitlines()[-1] == "state: up to date"
    with psycopg.connect(fresh_db_of_dba) as conn:
        owners = conn.execute(
            "SELECT DISTINCT nspowner::regrole::text FROM pg_namespace WHERE nspname IN ('bank', 'api', 'bankdb')"
        ).fetchall()
        assert owners == [("bank_owner",)]
        assert conn.execute("SELECT count(*) FROM bank.currencies WHERE code = 'EUR'").fetchone()[0] == 1


def test_the_dba_login_migrates_a_database_a_superuser_made(
    server, db: str, dba: tuple[str, str], tmp_path: Path
) -> None:
    # The README's login as it is: an existing database needs no more (the history belongs to bank_owner).
    make_login(server, [f"CREATE ROLE {dba[0]} LOGIN PASSWORD '{dba[1]}' IN ROLE bank_migrator"])
    url = as_dba(db, dba)
    status = bankdb("status", url=url)
    assert (status.returncode, status.stderr) == (0, "")
    nothing = bankdb("migrate", url=url)
    assert (nothing.returncode, nothing.stdout.splitlines()[0]) == (0, "Nothing to do: the database is up to date.")
    for folder in ("migrations", "functions", "views", "security", "seeds"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "migrations/V999_dba_note.sql").write_text("CREATE TABLE bank.dba_note (id bigint PRIMARY KEY);\n")
    applied = bankdb("migrate", url=url, project=Project(tmp_path))
    assert applied.returncode == 0, applied.stderr
    with psycopg.connect(db) as conn:
        assert conn.execute(
            "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'bank.dba_note'::regclass"
        ).fetchone()[0] == "bank_owner"
        assert conn.execute("SELECT applied_by FROM bankdb.migrations WHERE id = 'V999_dba_note'").fetchone()[0] == dba[0]


def test_a_history_the_dba_login_cannot_read_is_a_clear_error(server, db: str, dba: tuple[str, str]) -> None:
    make_login(server, [f"CREATE ROLE {dba[0]} LOGIN PASSWORD '{dba[1]}' IN ROLE bank_migrator"])
    with psycopg.connect(db, autocommit=True) as conn:  # as an older runner left it: the superuser's
        conn.execute("ALTER SCHEMA bankdb OWNER TO CURRENT_USER")
        conn.execute("ALTER TABLE bankdb.migrations OWNER TO CURRENT_USER")
        conn.execute("REVOKE ALL ON SCHEMA bankdb FROM bank_backup")
        superuser = conn.execute("SELECT current_user").fetchone()[0]
    for command in ("status", "migrate"):
        result = bankdb(command, url=as_dba(db, dba))
        assert (result.returncode, result.stderr) == (1, (
            f"bankdb: cannot read the migration history bankdb.migrations as {dba[0]}: it belongs to {superuser}. "
            f"Run `bankdb migrate` once as {superuser} or a superuser: it hands the history to bank_owner, "
            "which every bank_migrator member may use.\n"
        )), command
