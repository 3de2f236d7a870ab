"""The ground floor every bankdb module stands on: database sessions and what they share.

* connecting, each session named for its command, with the migration session's settings when asked;
* becoming the owner role (bank_owner), so that work sees and makes what migrations own;
* on a Citus coordinator, letting the bank roles reach the workers, since Citus connects as them;
* running a script's statements, failing with the statement and PostgreSQL's own words;
* the migration lock: one session advisory lock, taken with a deadline, released on the way out;
* the row checksums that backups and retention prove their copies with.

Nothing here knows about migrations, backups or seeds; they all come through here to the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import sqlparse
from psycopg import sql

OWNER_ROLE = "bank_owner"  # owns every object (V005); a migration runs as it once it exists
BANK_ROLES = (OWNER_ROLE, "bank_migrator", "bank_app", "bank_admin", "bank_readonly", "bank_backup")
# One advisory lock key for "a bankdb run is changing this database": the bytes of 'bankdbmg'.
LOCK_KEY = int.from_bytes(b"bankdbmg", "big")


class ScriptError(Exception):
    """A statement failed; the run was rolled back."""


class LockTimeout(Exception):
    """Another run holds the migration lock."""


# -- connecting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """The settings of a session that changes the schema (migrate, rollback, resolve)."""

    lock_wait: float = 60.0
    lock_timeout: str = "10s"
    statement_timeout: str = "15min"


def connect(conninfo: str, name: str, session: Session | None = None, autocommit: bool = True) -> psycopg.Connection:
    """A session named `name` in pg_stat_activity (and in the lock holder's message).

    With `session`, the migration session's settings: scripts name every object with its schema,
    so an empty search_path makes a forgotten one an error; function bodies are checked when called,
    not when created (as pg_restore does), so scripts apply in name order even when a function calls
    one from a later file; and the lock and statement timeouts a DBA chose."""
    conn = psycopg.connect(conninfo, autocommit=autocommit, application_name=name)
    if session is not None:
        conn.execute("SELECT set_config('search_path', 'pg_catalog', false)")
        conn.execute("SELECT set_config('check_function_bodies', 'off', false)")
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (session.lock_timeout,))
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (session.statement_timeout,))
    return conn


def become_owner(conn: psycopg.Connection) -> None:
    """SET ROLE bank_owner, once it owns schema bank here and this login may become it."""
    conn.execute(
        """
        SELECT set_config('role', r.rolname, false)
        FROM pg_catalog.pg_roles AS r
        JOIN pg_catalog.pg_namespace AS n ON n.nspowner = r.oid
        WHERE n.nspname = 'bank' AND r.rolname = %s AND pg_has_role(session_user, r.oid, 'MEMBER')
        """,
        (OWNER_ROLE,),
    )


def can_become_owner(conn: psycopg.Connection) -> bool:
    """Whether become_owner would switch to bank_owner now (in this transaction's view)."""
    return conn.execute(
        """
        SELECT EXISTS (
            SELECT FROM pg_catalog.pg_roles AS r
            JOIN pg_catalog.pg_namespace AS n ON n.nspowner = r.oid
            WHERE n.nspname = 'bank' AND r.rolname = %s AND pg_has_role(session_user, r.oid, 'MEMBER')
        )
        """,
        (OWNER_ROLE,),
    ).fetchone()[0]


# -- Citus -----------------------------------------------------------------------------------


def is_citus(conn: psycopg.Connection) -> bool:
    """Whether this database is (part of) a Citus cluster: the citus extension is created in it."""
    return conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')"
    ).fetchone()[0]


def let_bank_roles_reach_workers(conn: psycopg.Connection) -> None:
    """On Citus, before anyone becomes a bank role: the roles may log in (no password), and
    bank_owner may connect to this database; committed, and propagated by Citus to every worker.

    Citus runs a statement's work on the workers over connections it opens as the current role,
    so a session that did SET ROLE bank_owner (the runner), a SECURITY DEFINER function owned by
    it, or SET ROLE bank_app reaches the workers as that role: a NOLOGIN role fails there with
    "role is not permitted to log in" (citusdata/citus#7719), and bank_owner, which V005 does not
    give CONNECT (it needs none on one server), with "User does not have CONNECT privilege".
    Without a password the roles still cannot log in by password; only what pg_hba.conf lets in
    without one (the coordinator's address, certificates) can, which docs/scale-out.md asks a DBA
    to keep to the cluster's nodes."""
    roles = [r for (r,) in conn.execute(
        "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s) AND NOT rolcanlogin ORDER BY rolname",
        (list(BANK_ROLES),),
    ).fetchall()]
    statements = [sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(role)) for role in roles]
    if conn.execute(
        "SELECT to_regrole(%s) IS NOT NULL AND NOT has_database_privilege(%s, current_database(), 'CONNECT')",
        (OWNER_ROLE, OWNER_ROLE),
    ).fetchone()[0]:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        statements.append(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(database), sql.Identifier(OWNER_ROLE)))
    for statement in statements:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ScriptError(
                f"on Citus the bank roles must log in and bank_owner must connect to the database (Citus "
                f"reaches the workers as the role a session has become), and this login may not "
                f"{statement.as_string(conn)}: {exc.diag.message_primary}. Run `bankdb migrate` once as a "
                "superuser. Nothing of this run was kept."
            ) from exc


# -- running a script ------------------------------------------------------------------------


def split_statements(sql_text: str) -> list[str]:
    """Split a script into statements the way yoyo does (sqlparse), dropping comment-only pieces."""
    statements = []
    for piece in sqlparse.split(sql_text):
        if sqlparse.format(piece, strip_comments=True).strip():
            statements.append(piece.strip())
    return statements


def describe_failure(label: str, statement: str, exc: psycopg.Error) -> str:
    diag = exc.diag
    first_line = statement.strip().splitlines()[0][:100]
    lines = [f"{label} failed at: {first_line}", f"  {diag.sqlstate or ''} {diag.message_primary or exc}".rstrip()]
    for name, value in (("detail", diag.message_detail), ("hint", diag.message_hint)):
        if value:
            lines.append(f"  {name}: {value}")
    lines.append("  Nothing of this run was kept.")
    return "\n".join(lines)


def run_statements(conn: psycopg.Connection, label: str, statements: list[str]) -> None:
    """Run statements in order; the first failure raises ScriptError naming `label`, the statement,
    and PostgreSQL's SQLSTATE, message, detail and hint."""
    for statement in statements:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            raise ScriptError(describe_failure(label, statement, exc)) from exc


# -- the migration lock ----------------------------------------------------------------------


def _lock_holder(conn: psycopg.Connection) -> str:
    holder = conn.execute(
        """
        SELECT a.pid, a.application_name, a.backend_start
        FROM pg_catalog.pg_locks AS l
        JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = %s
        """,
        (LOCK_KEY,),
    ).fetchone()
    if not holder:
        return "another session"
    return f"backend pid {holder[0]} ({holder[1]}, connected {holder[2]:%Y-%m-%d %H:%M:%S%z})"


@contextmanager
def migration_lock(conn: psycopg.Connection, wait: float) -> Iterator[None]:
    """Hold the session advisory lock that says "a bankdb run is changing this database".

    Polls pg_try_advisory_lock until `wait` seconds have passed, then raises LockTimeout naming the
    holder. A session lock dies with its connection, so a crashed run leaves nothing behind; that is
    also why a lost connection is not asked to release it (which would hide the error that lost it).
    """
    deadline = time.monotonic() + wait
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"gave up after {wait:g}s waiting for the migration lock held by {_lock_holder(conn)}: "
                "another bankdb run is changing this database. Retry when it has finished; "
                "a crashed run's lock goes away with its connection."
            )
        time.sleep(0.25)
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


# -- row checksums ---------------------------------------------------------------------------


def stable_text(conn: psycopg.Connection) -> None:
    """Rows print the same on any server: UTC times, ISO dates."""
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO'")


def rows_and_checksum(conn: psycopg.Connection, table: sql.Composable) -> tuple[int, str]:
    """The row count and an order-independent checksum of the rows' text (after stable_text)."""
    return conn.execute(sql.SQL(
        "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM {} AS t"
    ).format(table)).fetchone()
