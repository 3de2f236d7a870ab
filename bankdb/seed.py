"""Seed data: the lookups every database needs, and an optional small demo data set."""

from __future__ import annotations

import psycopg
from psycopg import sql

from bankdb import db, migrator
from bankdb.settings import Project

LOOKUPS = migrator.LOOKUP_SEEDS
DEMO = "demo.sql"
DEMO_EMAILS = "%@demo.bankdb.test"


class NotMigrated(Exception):
    pass


def seed(project: Project, conninfo: str, demo: bool = False, replace_demo: bool = False,
         out: migrator.Out = print) -> None:
    """Load the lookups (idempotent upserts) and, with demo, the demo users unless they are there already.

    replace_demo deletes the demo users and everything they own first, and loads them again (new ids)."""
    with db.connect(conninfo, "bankdb seed") as conn:
        seed_on(conn, migrator.read_tree(project), demo, replace_demo, out)


def seed_on(conn: psycopg.Connection, tree: migrator.Tree, demo: bool = False, replace_demo: bool = False,
            out: migrator.Out = print) -> None:
    """seed() through an open session, with a tree already read (`bankdb up` migrated with both)."""
    state = migrator.compute_state(tree.for_target(db.is_citus(conn)), migrator.read_history(conn))
    if state.exit_code != 0:
        raise NotMigrated("the database is not up to date: run `bankdb migrate` first (see `bankdb status`)")
    project = tree.project
    with conn.transaction():
        for name in LOOKUPS:
            _run(conn, project, name, out)
        if not (demo or replace_demo):
            return
        users = [r[0] for r in conn.execute(
            "SELECT id FROM bank.users WHERE email LIKE %s ORDER BY id", (DEMO_EMAILS,)
        )]
        if users and not replace_demo:
            out(f"  seeds/{DEMO}: kept the {len(users)} demo users already here, and all they own "
                "(--replace-demo deletes and reloads them)")
            return
        if users:
            out(f"  deleted the demo users and everything they owned: {delete_demo_users(conn, users)}")
        _run(conn, project, DEMO, out)


def delete_demo_users(conn: psycopg.Connection, users: list[int]) -> str:
    """Delete the given users (their rows go by ON DELETE CASCADE); say how many rows of each table went."""
    # Every user-owned table has a user_id column, whose foreign key cascades from bank.users.
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid"
        " WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND a.attname = 'user_id' AND NOT a.attisdropped ORDER BY c.relname"
    )]
    counts = {
        table: conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE user_id = ANY(%s)").format(sql.Identifier("bank", table)), (users,)
        ).fetchone()[0]
        for table in tables
    }
    conn.execute("DELETE FROM bank.users WHERE id = ANY(%s)", (users,))
    return ", ".join([f"{len(users)} users"] + [f"{n} {table}" for table, n in counts.items() if n])


def _run(conn: psycopg.Connection, project: Project, name: str, out: migrator.Out) -> None:
    path = project.seeds / name
    db.run_statements(conn, f"seeds/{path.name}", db.split_statements(path.read_text(encoding="utf-8")))
    out(f"  seeds/{path.name}")
