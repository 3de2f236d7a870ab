"""Realistic generated data, made on the server, set-based, the same for the same seed.

Every value comes from hashtextextended(key, seed) of what it describes (the user's number, the
account's type, the row's number), never from random() nor from an id: the data does not depend on
the order or the batches it was made in, nor on the ids the database hands out. Users get 1-5
accounts, mostly in their base currency; a typical user about 100 transactions over the months,
the first --heavy-users about 50,000; salaries, budgets, bills and rules; daily exchange rates.
Transactions are loaded with bankdb's own triggers off (foreign keys stay on), their rate and
base amount computed in the same statement, then every total is rebuilt from the raw rows.

The SQL is in seeds/generate/, one statement (or two) per file, linted like every other SQL file.
Its parameters are settings of this session, generate.<name>, which the files read with
current_setting(): plain SQL, no placeholders to escape. This module sets them, runs the files in
order, batches the users and draws the progress bar.

On a distributed Citus database the statements run as the login itself, not as bank_owner: Citus
carries out an INSERT ... SELECT whose rows are not made on the target's shards by collecting them
on the coordinator and COPYing them into the shards, and PostgreSQL refuses COPY FROM into a table
under row-level security for a role the policies apply to, as they do to bank_owner (FORCE ROW
LEVEL SECURITY). So there the login must bypass row-level security (a superuser); any other is
refused before anything changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bankdb import db
from bankdb.progress import bar
from bankdb.settings import Project, default_project_dir

GENERATED = "@gen.bankdb.test"  # every generated user's e-mail ends so; nothing else's does


class GenerateError(db.ScriptError):
    """The data cannot be generated as asked; the message says why and what to do instead."""


def _distributed(conn: psycopg.Connection) -> bool:
    return db.is_citus(conn) and conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = 'bank.users'::regclass)"
    ).fetchone()[0]


def _act(conn: psycopg.Connection) -> None:
    """Become bank_owner on one server; on a distributed database stay the login, which must bypass
    row-level security (module docstring), and let ALTER TABLE ... TRIGGER reach the shards."""
    if not _distributed(conn):
        db.become_owner(conn)
        return
    bypass, login = conn.execute(
        "SELECT rolsuper OR rolbypassrls, rolname FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    if not bypass:
        raise GenerateError(
            f"generate: on a distributed Citus database the generator loads rows that Citus COPYs into the "
            f"shards, which PostgreSQL refuses under row-level security; {login} does not bypass it. "
            "Run it as a superuser, or generate before `bankdb distribute`. Nothing was changed."
        )
    # Citus refuses ALTER TABLE ... DISABLE TRIGGER on a distributed table without it.
    conn.execute("SET citus.enable_unsafe_triggers = on")


class _Script:
    """Runs seeds/generate/<name>.sql on one connection, after setting its generate.* parameters."""

    def __init__(self, conn: psycopg.Connection, folder: Path) -> None:
        self.conn, self.folder = conn, folder

    def __call__(self, name: str, **params: object) -> psycopg.Cursor:
        for key, value in params.items():
            self.conn.execute("SELECT set_config(%s, %s, false)", (f"generate.{key}", str(value)))
        return self.conn.execute((self.folder / f"{name}.sql").read_text(encoding="utf-8"))


def generate(conninfo: str, users: int, seed: int = 1, heavy_users: int = 0, heavy_transactions: int = 50_000,
             months: int = 24, batch: int = 2_000, out: Callable[[str], None] = print,
             progress: Callable[[str, int, int, float], None] = bar,
             project: Project | None = None) -> dict[str, int]:
    """Replace the generated users (their e-mail ends in @gen.bankdb.test) by `users` new ones."""
    folder = (project or Project(default_project_dir())).seeds / "generate"
    with db.connect(conninfo, "bankdb generate") as conn:
        _act(conn)
        run = _Script(conn, folder)
        run("delete", email_domain=GENERATED, seed=seed, months=months, heavy_users=heavy_users,
            heavy_transactions=heavy_transactions)
        run("window")
        out(f"Generating {users:,} users ({heavy_users} heavy) over {months} months, seed {seed}...")
        with conn.transaction():
            run("exchange_rates")
        started = time.monotonic()
        for offset in range(0, users, batch):
            with conn.transaction():
                run("users", low=offset + 1, high=min(offset + batch, users))
            progress("users", min(offset + batch, users), users, started)
        # In the order of their number, so that the heavy users are always the first ones.
        ids = [r[0] for r in run("user_ids").fetchall()]
        with conn.transaction():
            run("accounts")
        conn.execute("ALTER TABLE bank.transactions DISABLE TRIGGER USER")
        try:
            started = time.monotonic()
            for i in range(0, len(ids), batch):
                with conn.transaction():
                    run("purchases", user_ids="{" + ",".join(map(str, ids[i:i + batch])) + "}")
                    run("salaries")
                progress("transactions", min(i + batch, len(ids)), len(ids), started)
        finally:
            conn.execute("ALTER TABLE bank.transactions ENABLE TRIGGER USER")
        with conn.transaction():
            run("budgets")
            run("bills")
            run("category_rules")
        out("Rebuilding the totals from the raw rows...")
        conn.execute("SELECT bank.rebuild_totals()")
        conn.execute("SELECT bank.mark_overdue_bills()")
        conn.execute("ANALYZE")
        counts = dict(run("counts").fetchall())
        out(f"Generated {counts['users']:,} users, {counts['accounts']:,} accounts, "
            f"{counts['transactions']:,} transactions.")
        return counts
