"""Least privilege, read from the catalog: nothing for PUBLIC, no way around row-level security."""

from __future__ import annotations

import secrets
import subprocess

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bankdb import migrator
from bankdb.server import pg_bin

from ..conftest import PROJECT
from ..helpers import add_txn, make_account, make_user

SCHEMAS = "('bank', 'api', 'bank_partitions', 'monitor')"


def rows(conn: psycopg.Connection, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


def test_nothing_is_granted_to_public(conn: psycopg.Connection) -> None:
    grants = rows(conn, f"""
        SELECT 'schema ' || n.nspname, a.privilege_type
        FROM pg_namespace AS n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
        WHERE n.nspname IN {SCHEMAS} AND a.grantee = 0
        UNION ALL
        SELECT 'relation ' || c.oid::regclass, a.privilege_type
        FROM pg_class AS c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
        WHERE c.relnamespace::regnamespace::text IN {SCHEMAS} AND a.grantee = 0
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure, a.privilege_type
        FROM pg_proc AS p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
        WHERE p.pronamespace::regnamespace::text IN {SCHEMAS} AND a.grantee = 0
        UNION ALL
        SELECT 'type ' || t.oid::regtype, a.privilege_type
        FROM pg_type AS t, aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) AS a
        WHERE t.typnamespace::regnamespace::text IN {SCHEMAS} AND t.typtype = 'e' AND a.grantee = 0
    """)
    assert grants == []


def test_bank_owner_owns_everything(conn: psycopg.Connection) -> None:
    others = rows(conn, f"""
        SELECT c.oid::regclass::text, c.relowner::regrole::text FROM pg_class AS c
        WHERE c.relnamespace::regnamespace::text IN {SCHEMAS} AND c.relowner <> 'bank_owner'::regrole
        UNION ALL
        SELECT p.oid::regprocedure::text, p.proowner::regrole::text FROM pg_proc AS p
        WHERE p.pronamespace::regnamespace::text IN {SCHEMAS} AND p.proowner <> 'bank_owner'::regrole
    """)
    assert others == []


def test_bank_app_owns_nothing_bypasses_nothing_and_cannot_change_the_schema(conn: psycopg.Connection) -> None:
    assert rows(conn, """
        SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = 'bank_app'
    """) == [(False, False, False, False, False)]
    assert rows(conn, "SELECT count(*) FROM pg_class WHERE relowner = 'bank_app'::regrole") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM pg_proc WHERE proowner = 'bank_app'::regrole") == [(0,)]
    assert rows(conn, """
        SELECT nspname FROM pg_namespace WHERE has_schema_privilege('bank_app', oid, 'CREATE')
    """) == []
    assert rows(conn, "SELECT has_database_privilege('bank_app', current_database(), 'CREATE')") == [(False,)]
    assert rows(conn, f"""
        SELECT c.oid::regclass::text, p FROM pg_class AS c, unnest(ARRAY['TRUNCATE', 'TRIGGER', 'REFERENCES']) AS p
        WHERE c.relnamespace::regnamespace::text IN {SCHEMAS} AND c.relkind IN ('r', 'p', 'v')
          AND has_table_privilege('bank_app', c.oid, p)
    """) == []
    assert rows(conn, "SELECT pg_has_role('bank_app', 'bank_owner', 'MEMBER')") == [(False,)]


def test_derived_columns_and_tables_are_not_writable_by_applications(conn: psycopg.Connection) -> None:
    writable = rows(conn, """
        SELECT format('%s.%s %s', table_name, column_name, p)
        FROM information_schema.columns, unnest(ARRAY['INSERT', 'UPDATE']) AS p
        WHERE table_schema = 'bank'
          AND (table_name, column_name) IN (('budgets', 'spent_amount'), ('budgets', 'carried_in'),
                                            ('rewards', 'points_balance'),
                                            ('users', 'is_admin'), ('users', 'kyc_status'),
                                            ('monthly_totals', 'spending'), ('accounts', 'disabled_at'))
          AND has_column_privilege('bank_app', format('bank.%I', table_name), column_name, p)
        ORDER BY 1
    """)
    assert writable == []
    assert rows(conn, "SELECT has_table_privilege('bank_app', 'bank.admin_logs', 'SELECT')") == [(False,)]
    assert rows(conn, "SELECT has_table_privilege('bank_app', 'bank.reward_entries', 'UPDATE')") == [(False,)]


def test_readonly_reaches_the_api_schema_only(conn: psycopg.Connection) -> None:
    assert rows(conn, """
        SELECT nspname FROM pg_namespace
        WHERE nspname IN ('bank', 'api', 'bank_partitions', 'public') AND has_schema_privilege('bank_readonly', oid, 'USAGE')
        ORDER BY 1
    """) == [("api",), ("public",)]
    assert rows(conn, """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.relnamespace = 'bank'::regnamespace
          AND (has_table_privilege('bank_readonly', c.oid, 'INSERT') OR has_table_privilege('bank_readonly', c.oid, 'UPDATE')
               OR has_table_privilege('bank_readonly', c.oid, 'DELETE'))
    """) == []


def test_every_api_view_is_security_invoker(conn: psycopg.Connection) -> None:
    assert rows(conn, """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.relnamespace = 'api'::regnamespace AND c.relkind = 'v'
          AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), FALSE)
    """) == []


def test_every_security_definer_function_pins_its_search_path(conn: psycopg.Connection) -> None:
    assert rows(conn, """
        SELECT p.oid::regprocedure::text FROM pg_proc AS p
        WHERE p.prosecdef AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), FALSE)
          AND p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace)
    """) == []


def test_the_roles_exist_once_and_a_second_database_migrates_in_the_same_cluster(empty_db: str) -> None:
    migrator.migrate(PROJECT, empty_db, out=lambda _: None)  # the template already made the roles
    with psycopg.connect(empty_db) as conn:
        assert rows(conn, """
            SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'bank\\_%' ORDER BY 1
        """) == [("bank_admin", False), ("bank_app", False), ("bank_backup", False), ("bank_migrator", False),
                 ("bank_owner", False), ("bank_readonly", False)]
        assert rows(conn, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'bank'") == [("bank_owner",)]


def test_a_backup_login_dumps_every_users_rows_through_row_security(db: str, tmp_path) -> None:
    """pg_dump as a member of bank_backup, as a DBA would run it."""
    password, login = secrets.token_hex(8), f"backup_{secrets.token_hex(4)}"
    with psycopg.connect(db, autocommit=True) as conn:
        migrator.grant_history_to_backup(conn)  # bankdb migrate does this after every run
        for email in ("a@example.com", "b@example.com"):
            add_txn(conn, make_account(conn, make_user(conn, email)["id"]), "1.00")
        conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{password}' IN ROLE bank_backup")
    try:
        as_backup = make_conninfo(**{**conninfo_to_dict(db), "user": login, "password": password})
        users = subprocess.run(
            [pg_bin("pg_dump"), "--enable-row-security", "--data-only", "--table=bank.users", "--dbname", as_backup],
            capture_output=True, text=True,
        )
        assert users.returncode == 0, users.stderr
        assert "a@example.com" in users.stdout and "b@example.com" in users.stdout
        everything = subprocess.run(
            [pg_bin("pg_dump"), "--enable-row-security", "--format=custom", f"--file={tmp_path / 'all.dump'}",
             "--dbname", as_backup],
            capture_output=True, text=True,
        )
        assert everything.returncode == 0, everything.stderr
    finally:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {login}")
