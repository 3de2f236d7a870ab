"""Seed data: the lookups every database needs, and an optional small demo data set."""

from __future__ import annotations

import psycopg

from bankdb import migrator
from bankdb.settings import Project

LOOKUPS = migrator.LOOKUP_SEEDS
DEMO = "demo.sql"


class NotMigrated(Exception):
    pass


def seed(project: Project, conninfo: str, demo: bool = False, out: migrator.Out = print) -> None:
    """Load the lookups (idempotent upserts) and, with demo, replace the demo users' data."""
    files = [project.seeds / name for name in LOOKUPS + ((DEMO,) if demo else ())]
    with psycopg.connect(conninfo, autocommit=True, application_name="bankdb seed") as conn:
        state = migrator.compute_state(project, migrator.read_history(conn))
        if state.exit_code != 0:
            raise NotMigrated("the database is not up to date: run `bankdb migrate` first (see `bankdb status`)")
        with conn.transaction():
            for path in files:
                for statement in migrator.split_statements(path.read_text(encoding="utf-8")):
                    try:
                        conn.execute(statement)
                    except psycopg.Error as exc:
                        raise migrator.ScriptError(
                            migrator.describe_failure(f"seeds/{path.name}", statement, exc)
                        ) from exc
                out(f"  seeds/{path.name}")
