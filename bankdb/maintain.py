"""The periodic work: bank.run_maintenance() now, or registered with pg_cron to run on a schedule."""

from __future__ import annotations

from bankdb import db

CRON_JOB = "bankdb-maintain"


class MaintainError(Exception):
    """Maintenance cannot be done as asked; the message says why and what to do instead."""


def run(conninfo: str, months_ahead: int | None, bill_due_days: int) -> list[tuple[str, str]]:
    """Run bank.run_maintenance() once: what each task did, in its order."""
    with db.connect(conninfo, "bankdb maintain") as conn:
        return conn.execute("SELECT * FROM bank.run_maintenance(%s, %s)", (months_ahead, bill_due_days)).fetchall()


def schedule(conninfo: str, cron: str, months_ahead: int | None, bill_due_days: int) -> None:
    """Register (or replace) the pg_cron job CRON_JOB that runs bank.run_maintenance() with these arguments."""
    with db.connect(conninfo, "bankdb maintain") as conn:
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone():
            raise MaintainError("pg_cron is not installed in this database; schedule `bankdb maintain` with cron instead")
        # The command is quoted on the server (format %L), so the arguments cannot end up as SQL.
        conn.execute(
            "SELECT cron.schedule(%s, %s, format('SELECT * FROM bank.run_maintenance(%%L, %%L)', %s, %s))",
            (CRON_JOB, cron, months_ahead, bill_due_days),
        )
