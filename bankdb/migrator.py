"""Migrations and repeatable scripts: what is applied, what is pending, and applying it safely.

yoyo reads the migration folder (its file conventions: `.sql` files, `X.rollback.sql` beside
them, `-- transactional: false` directives). On top of it this module adds what yoyo lacks:

* a checksum of each applied file's content, so an edited, renamed or removed migration is *drift*;
* each run in one transaction with its bookkeeping (a failure leaves nothing behind);
* the migration lock (bankdb.db.migration_lock) around every change, and the migration session;
* versioned files strictly in order;
* repeatable folders (functions/, views/) re-applied when their content changes.

Connections, the owner role, running statements and the lock are bankdb.db's.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import psycopg
from yoyo.migrations import parse_metadata_from_sql_comments, read_migrations

from bankdb import db
from bankdb.db import OWNER_ROLE, ScriptError, Session, split_statements
from bankdb.settings import Project

HISTORY_SCHEMA = "bankdb"
BACKUP_ROLE = "bank_backup"  # reads everything, the runner's history included, to dump it
HISTORY_TABLE = f"{HISTORY_SCHEMA}.migrations"
# Loaded from seeds/ as OWNER_ROLE after a run that changed something: the lookups every insert
# needs (idempotent upserts), so a migrated database takes writes without `bankdb seed`.
LOOKUP_SEEDS = ("currencies.sql", "categories.sql")
# Loaded after every run, even one with nothing to do: the partitions from this month on.
PARTITION_SEED = "partitions_ahead.sql"
VERSIONED_NAME = re.compile(r"V(?P<version>\d{3,})_[a-z0-9_]+")
VIEW_NAME = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?P<schema>\w+)\.(?P<name>\w+)", re.IGNORECASE
)

Out = Callable[[str], None]


class ProjectError(Exception):
    """The SQL tree itself is wrong (bad file name, broken directive, missing rollback)."""


class NoHistoryAccess(ScriptError):
    """The login may not read the runner's history (it belongs to another login)."""


class NotCitus(ScriptError):
    """`bankdb distribute` on a database without the citus extension."""


class DriftError(Exception):
    """The database's history and the files disagree; a DBA must resolve it first."""


# -- reading the tree ------------------------------------------------------------------------


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Script:
    kind: str  # "versioned" or "repeatable"
    id: str  # V001_initial_schema, or functions/name.sql
    path: Path
    text: str  # exactly what is applied (rendered, for a .sql.j2 template)
    transactional: bool = True
    rollback_path: Path | None = None

    @property
    def checksum(self) -> str:
        return checksum(self.text)

    @property
    def statements(self) -> list[str]:
        return split_statements(self.text)

    @property
    def version(self) -> int:
        match = VERSIONED_NAME.fullmatch(self.id)
        assert match, self.id
        return int(match["version"])


def read_versioned(directory: Path) -> list[Script]:
    if not directory.is_dir():
        return []
    scripts: dict[int, Script] = {}
    for migration in read_migrations(str(directory)):
        path = Path(migration.path)
        if path.suffix != ".sql":
            raise ProjectError(f"{path.name}: migrations are plain SQL files (.sql)")
        if not VERSIONED_NAME.fullmatch(migration.id):
            raise ProjectError(
                f"{path.name}: a migration is named V<3+ digits>_<lower_case_words>.sql, "
                "e.g. V005_add_statement_imports.sql"
            )
        text = path.read_text(encoding="utf-8")
        directives, _, _ = parse_metadata_from_sql_comments(text)
        transactional = directives.get("transactional", "true").strip().lower() != "false"
        rollback = path.with_name(migration.id + ".rollback.sql")
        script = Script(
            "versioned", migration.id, path, text, transactional,
            rollback if rollback.exists() else None,
        )
        if not transactional and len(script.statements) != 1:
            raise ProjectError(
                f"{path.name}: a migration marked '-- transactional: false' must hold exactly one "
                f"statement (it has {len(script.statements)}); split it into several migrations"
            )
        if script.version in scripts:
            raise ProjectError(
                f"{path.name}: version {script.version} is taken by {scripts[script.version].path.name}"
            )
        scripts[script.version] = script
    return [scripts[v] for v in sorted(scripts)]


def read_repeatables(directories: Iterable[Path], citus: bool = False) -> list[Script]:
    """The repeatable scripts; templates are rendered for the target: `citus` is true on a Citus
    coordinator, where some objects need another implementation (docs/scale-out.md)."""
    scripts = []
    for directory in directories:
        if not directory.is_dir():
            continue
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        files = sorted(p for p in directory.iterdir() if p.name.endswith((".sql", ".sql.j2")))
        for path in files:
            if path.name.endswith(".j2"):
                text = env.get_template(path.name).render(citus=citus)
            else:
                text = path.read_text(encoding="utf-8")
            scripts.append(Script("repeatable", f"{directory.name}/{path.name}", path, text))
    return scripts


@dataclass(frozen=True)
class Tree:
    """The project's migrations and repeatable scripts, read from disk once per command."""

    project: Project
    versioned: list[Script]
    repeatables: list[Script]
    citus: bool = False  # rendered for a Citus coordinator

    def for_target(self, citus: bool) -> Tree:
        """This tree with its templates rendered for the database's target (single node or Citus)."""
        if citus == self.citus:
            return self
        return Tree(self.project, self.versioned, read_repeatables(self.project.repeatable_dirs, citus), citus)


def read_tree(project: Project, citus: bool = False) -> Tree:
    return Tree(project, read_versioned(project.migrations), read_repeatables(project.repeatable_dirs, citus), citus)


# -- the database's history ------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    kind: str
    id: str
    checksum: str
    applied_at: object


def read_history(conn: psycopg.Connection) -> dict[str, Applied]:
    try:
        with conn.transaction():
            if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (HISTORY_TABLE,)).fetchone()[0]:
                return {}
            rows = conn.execute(
                f"SELECT kind, id, checksum, applied_at FROM {HISTORY_TABLE} ORDER BY id"
            ).fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        owner = conn.execute(
            "SELECT nspowner::regrole::text, session_user FROM pg_catalog.pg_namespace WHERE nspname = %s",
            (HISTORY_SCHEMA,),
        ).fetchone()
        if owner[0] == OWNER_ROLE:  # the history is where it belongs: this login lacks the privilege
            raise
        raise NoHistoryAccess(
            f"cannot read the migration history {HISTORY_TABLE} as {owner[1]}: it belongs to {owner[0]}. "
            f"Run `bankdb migrate` once as {owner[0]} or a superuser: it hands the history to {OWNER_ROLE}, "
            f"which every bank_migrator member may use."
        ) from exc
    return {r[1]: Applied(*r) for r in rows}


def ensure_history(conn: psycopg.Connection) -> None:
    # Only when missing: even CREATE ... IF NOT EXISTS needs CREATE on the database and the schema,
    # which a DBA login that does not own them lacks.
    # (Looked up in the catalog: to_regclass fails without USAGE on the schema; read_history says so.)
    if conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = 'migrations')",
        (HISTORY_SCHEMA,),
    ).fetchone()[0]:
        return
    with conn.transaction():
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
        conn.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
                id text NOT NULL CONSTRAINT migrations_pkey PRIMARY KEY,
                kind text NOT NULL CONSTRAINT migrations_kind_check
                    CHECK (kind IN ('versioned', 'repeatable')),
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL DEFAULT current_user,
                duration_ms integer NOT NULL
            )
            """
        )
        conn.execute(
            f"COMMENT ON TABLE {HISTORY_TABLE} IS "
            "'What bankdb applied: one row per versioned migration and per repeatable script, "
            "with the sha256 of the content applied. Written by the runner only.'"
        )


# -- state -----------------------------------------------------------------------------------


@dataclass
class State:
    versioned: list[Script]
    repeatables: list[Script]
    history: dict[str, Applied]
    drift: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    pending: list[Script] = field(default_factory=list)
    repeatables_due: list[Script] = field(default_factory=list)
    repeatables_removed: list[str] = field(default_factory=list)

    @property
    def views_changed(self) -> bool:
        return any(s.id.startswith("views/") for s in self.repeatables_due)

    @property
    def blocked(self) -> bool:
        return bool(self.drift or self.out_of_order)

    @property
    def has_work(self) -> bool:
        return bool(self.pending or self.repeatables_due or self.repeatables_removed)

    @property
    def exit_code(self) -> int:
        """0 up to date, 1 pending work, 2 drift (the contract of `bankdb status`)."""
        if self.blocked:
            return 2
        return 1 if self.has_work else 0

    def applied_versioned(self) -> list[Script]:
        return [s for s in self.versioned if s.id in self.history]


def compute_state(tree: Tree, history: dict[str, Applied]) -> State:
    state = State(tree.versioned, tree.repeatables, history)
    files = {s.id: s for s in state.versioned}
    applied_ids = {a.id for a in history.values() if a.kind == "versioned"}
    for applied_id in sorted(applied_ids):
        script = files.get(applied_id)
        if script is None:
            state.drift.append(f"{applied_id}: applied, but its file is gone (removed or renamed)")
        elif script.checksum != history[applied_id].checksum:
            state.drift.append(
                f"{applied_id}: edited since it was applied (sha256 {history[applied_id].checksum[:12]} "
                f"recorded, {script.checksum[:12]} on disk)"
            )
    state.pending = [s for s in state.versioned if s.id not in applied_ids]
    newest_applied = max((s.version for s in state.versioned if s.id in applied_ids), default=-1)
    for script in state.pending:
        if script.version < newest_applied:
            state.out_of_order.append(
                f"{script.id}: not applied, but older than the newest applied migration; "
                "give it a version after the newest one"
            )
    for script in state.repeatables:
        applied = history.get(script.id)
        # After any migration every repeatable is applied again: a migration may have dropped
        # or replaced what a trigger or view hung on.
        if state.pending or applied is None or applied.checksum != script.checksum:
            state.repeatables_due.append(script)
    if state.views_changed:
        # Views are dropped and made again (CREATE OR REPLACE VIEW cannot change a column's type),
        # so every view comes back, and so does what follows them (security/ grants them).
        views = tree.project.root / "views"
        first = next(i for i, s in enumerate(state.repeatables) if s.path.parent == views)
        due = {s.id for s in state.repeatables_due}
        state.repeatables_due = [s for i, s in enumerate(state.repeatables) if s.id in due or i >= first]
    repeatable_ids = {s.id for s in state.repeatables}
    state.repeatables_removed = sorted(
        a.id for a in history.values() if a.kind == "repeatable" and a.id not in repeatable_ids
    )
    return state


# -- units of work ---------------------------------------------------------------------------


@dataclass
class Unit:
    """Statements run together, then one bookkeeping change: record a script or forget ids."""

    label: str
    statements: list[str]
    transactional: bool = True
    record: Script | None = None
    forget: list[str] = field(default_factory=list)
    as_owner: bool = True  # run as OWNER_ROLE when it exists; rollbacks run as the login itself


def managed_view_schemas(state: State) -> list[str]:
    schemas = set()
    for script in state.repeatables:
        for match in VIEW_NAME.finditer(script.text):
            schemas.add(match["schema"].lower())
    return sorted(schemas)


def drop_views_unit(conn: psycopg.Connection, state: State, why: str) -> Unit | None:
    """Drop every view in the schemas views/ manages, so migrations can change what lies under them.

    They are created again from views/ in the same run. The list comes from the catalog, so a view
    whose file was renamed is dropped too.
    """
    schemas = managed_view_schemas(state)
    if not schemas:
        return None
    rows = conn.execute(
        "SELECT format('%%I.%%I', schemaname, viewname) FROM pg_catalog.pg_views "
        "WHERE schemaname = ANY(%s) ORDER BY schemaname, viewname",
        (schemas,),
    ).fetchall()
    if not rows:
        return None
    statements = [f"DROP VIEW IF EXISTS {name} CASCADE;" for (name,) in rows]
    return Unit(f"drop the views of {', '.join(schemas)} ({why})", statements)


def migrate_units(conn: psycopg.Connection, state: State) -> list[Unit]:
    units: list[Unit] = []
    if state.pending or state.views_changed:
        drop = drop_views_unit(conn, state, "re-created from views/ in this run")
        if drop:
            units.append(drop)
    for script in state.pending:
        units.append(Unit(script.id, script.statements, script.transactional, record=script))
    for script in state.repeatables_due:
        units.append(Unit(script.id, script.statements, record=script))
    if state.repeatables_removed:
        units.append(
            Unit(
                "forget repeatable scripts whose files are gone (their objects stay: drop them in a migration)",
                [],
                forget=state.repeatables_removed,
            )
        )
    return units


def ready_units(project: Project, lookups: bool) -> list[Unit]:
    """What leaves the database ready for today's writes: the partitions ahead, and the lookups.

    A tree without these seed files (the runner's own tests) has nothing to get ready."""
    names = (LOOKUP_SEEDS if lookups else ()) + (PARTITION_SEED,)
    paths = [project.seeds / name for name in names]
    if not all(path.is_file() for path in paths):
        return []
    return [Unit(f"seeds/{path.name}", split_statements(path.read_text(encoding="utf-8"))) for path in paths]


def rollback_units(
    conn: psycopg.Connection, state: State, steps: int | None, to: str | None
) -> list[Unit]:
    applied = state.applied_versioned()
    if to is not None:
        ids = [s.id for s in applied]
        if to not in ids:
            raise ProjectError(f"--to {to}: not an applied migration (applied: {', '.join(ids) or 'none'})")
        chosen = applied[ids.index(to) + 1:]
    else:
        chosen = applied[len(applied) - steps:] if steps else []
    if not chosen:
        return []
    units: list[Unit] = []
    drop = drop_views_unit(conn, state, "they may depend on what is rolled back")
    if drop:
        units.append(drop)
    for script in reversed(chosen):
        if script.rollback_path is None:
            raise ProjectError(
                f"{script.id}: no rollback file ({script.path.with_name(script.id + '.rollback.sql').name}); "
                "nothing was rolled back"
            )
        text = script.rollback_path.read_text(encoding="utf-8")
        directives, _, _ = parse_metadata_from_sql_comments(text)
        transactional = directives.get("transactional", "true").strip().lower() != "false"
        units.append(
            Unit(f"roll back {script.id}", split_statements(text), transactional, forget=[script.id], as_owner=False)
        )
    repeatable_ids = sorted(a.id for a in state.history.values() if a.kind == "repeatable")
    if repeatable_ids:
        units.append(
            Unit(
                "forget every repeatable script, so the next migrate applies them all again",
                [],
                forget=repeatable_ids,
            )
        )
    return units


# -- running ---------------------------------------------------------------------------------


def _bookkeep(conn: psycopg.Connection, unit: Unit, duration_ms: int) -> None:
    if unit.record is not None:
        conn.execute(
            f"""
            INSERT INTO {HISTORY_TABLE} (id, kind, checksum, duration_ms) VALUES (%s, %s, %s, %s)
            ON CONFLICT (id) DO UPDATE SET
                kind = excluded.kind,
                checksum = excluded.checksum,
                applied_at = now(),
                applied_by = current_user,
                duration_ms = excluded.duration_ms
            """,
            (unit.record.id, unit.record.kind, unit.record.checksum, duration_ms),
        )
    if unit.forget:
        conn.execute(f"DELETE FROM {HISTORY_TABLE} WHERE id = ANY(%s)", (unit.forget,))


def _run_statements(conn: psycopg.Connection, unit: Unit) -> None:
    """Run a unit's statements; as OWNER_ROLE, so that it owns what they create, once it owns the
    schema bank of this database (V005 hands it over, maybe earlier in the same run) and this login
    may become it. Until then, and in a second database of the cluster, the login runs them."""
    if unit.as_owner:
        db.become_owner(conn)
    try:
        db.run_statements(conn, unit.label, unit.statements)
    finally:
        if not conn.broken and conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            conn.execute("RESET ROLE")  # the bookkeeping is the login's own


def execute(conn: psycopg.Connection, units: list[Unit], out: Out, citus: bool = False) -> None:
    """Run units in order: consecutive transactional units share one transaction with their
    bookkeeping; a non-transactional unit runs alone, outside any transaction, then is recorded.

    On Citus (`citus`), the bank roles may reach the workers before each transaction, and a transaction ends
    where the units start running as bank_owner (after V005 on a first migrate): Citus reaches the
    workers over connections of the current role, and a connection as bank_owner sees nothing the
    login's own connections have not committed (the roles, CONNECT and CREATE on the database)."""
    index = 0
    while index < len(units):
        if citus:
            db.let_bank_roles_reach_workers(conn)
        if not units[index].transactional:
            unit = units[index]
            started = time.monotonic()
            _run_statements(conn, unit)
            elapsed = int((time.monotonic() - started) * 1000)
            with conn.transaction():
                _bookkeep(conn, unit, elapsed)
            out(f"  {unit.label} ({elapsed} ms, outside a transaction)")
            index += 1
            continue
        with conn.transaction():
            as_owner = citus and db.can_become_owner(conn)
            while index < len(units) and units[index].transactional:
                if citus and db.can_become_owner(conn) != as_owner:
                    break
                unit = units[index]
                started = time.monotonic()
                _run_statements(conn, unit)
                elapsed = int((time.monotonic() - started) * 1000)
                _bookkeep(conn, unit, elapsed)
                out(f"  {unit.label} ({elapsed} ms)")
                index += 1


def render_plan(units: list[Unit]) -> str:
    """The SQL a run executes, in order, with its transaction boundaries."""
    if not units:
        return "-- nothing to do\n"
    parts = [
        f"-- Migrations and repeatable scripts run as {OWNER_ROLE} (SET ROLE) once it owns schema bank and "
        "this login may become it;\n-- rollbacks and the bookkeeping run as the login itself."
    ]
    in_tx = False
    for unit in units:
        if unit.transactional and not in_tx:
            parts.append("BEGIN;")
            in_tx = True
        if not unit.transactional and in_tx:
            parts.append("COMMIT;")
            in_tx = False
        note = "" if unit.transactional else " (outside a transaction)"
        parts.append(f"-- ==== {unit.label}{note}")
        parts.extend(unit.statements)
        if unit.record is not None:
            parts.append(f"-- record {unit.record.id} in {HISTORY_TABLE}, sha256 {unit.record.checksum}")
        if unit.forget:
            parts.append(f"-- forget {', '.join(unit.forget)} in {HISTORY_TABLE}")
    if in_tx:
        parts.append("COMMIT;")
    return "\n\n".join(parts) + "\n"


# -- the operations --------------------------------------------------------------------------


def status(project: Project, conninfo: str) -> State:
    with db.connect(conninfo, "bankdb status") as conn:
        return compute_state(read_tree(project, db.is_citus(conn)), read_history(conn))


def plan(project: Project, conninfo: str) -> tuple[State, list[Unit]]:
    with db.connect(conninfo, "bankdb plan") as conn:
        state = compute_state(read_tree(project, db.is_citus(conn)), read_history(conn))
        if state.blocked:
            return state, []
        units = migrate_units(conn, state)
        return state, (units + ready_units(project, lookups=True) if units else [])


def _refuse_if_blocked(state: State, verb: str) -> None:
    if state.blocked:
        problems = "\n".join(f"  {p}" for p in state.drift + state.out_of_order)
        raise DriftError(
            f"{verb} refused: the migration files and the database's history disagree:\n{problems}\n"
            "Restore the released files (e.g. git checkout), or, when the database already matches the "
            "new file, record it with `bankdb resolve ID`."
        )


def migrate(project: Project, conninfo: str, session: Session = Session(), out: Out = print) -> State:
    with db.connect(conninfo, "bankdb", session) as conn:
        return migrate_on(conn, read_tree(project), session.lock_wait, out)


def migrate_on(conn: psycopg.Connection, tree: Tree, lock_wait: float, out: Out = print) -> State:
    """Migrate through a migration session (db.connect with a Session) under the migration lock;
    `bankdb up` goes on to seed through the same session, with the same tree."""
    citus = db.is_citus(conn)
    tree = tree.for_target(citus)
    if citus:
        # bankdb's triggers write only rows of the same user, which are co-located with the row
        # that fires them, the case Citus's "unsafe" triggers are for (docs/scale-out.md).
        conn.execute("SET citus.enable_unsafe_triggers = on")
    with db.migration_lock(conn, lock_wait):
        ensure_history(conn)
        state = compute_state(tree, read_history(conn))
        _refuse_if_blocked(state, "migrate")
        units = migrate_units(conn, state)
        if units:
            out(
                f"Applying {len(state.pending)} migration(s) and "
                f"{len(state.repeatables_due)} repeatable script(s):"
            )
            execute(conn, units + ready_units(tree.project, lookups=True), out, citus)
        else:
            out("Nothing to do: the database is up to date.")
            # A month may have begun since the last run.
            execute(conn, ready_units(tree.project, lookups=False), lambda _: None, citus)
        hand_history_to_owner(conn)
        grant_history_to_backup(conn)
        return state


def hand_history_to_owner(conn: psycopg.Connection) -> None:
    """Once bank_owner owns schema bank here, it owns the runner's history too, so every DBA login
    (a bank_migrator member) can read and write it: `status`, `migrate` and `rollback` work for all
    of them, not only for the login that happened to create it. Only its owner or a superuser can
    hand it over; for anyone else this waits for their next run."""
    movable = conn.execute(
        """
        SELECT TRUE
        FROM pg_catalog.pg_namespace AS history
        JOIN pg_catalog.pg_namespace AS bank ON bank.nspname = 'bank'
        WHERE history.nspname = %s
          AND bank.nspowner = to_regrole(%s)
          AND history.nspowner <> bank.nspowner
          AND (history.nspowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user)
               OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user))
        """,
        (HISTORY_SCHEMA, OWNER_ROLE),
    ).fetchone()
    if movable:
        with conn.transaction():
            conn.execute(f"ALTER SCHEMA {HISTORY_SCHEMA} OWNER TO {OWNER_ROLE}")
            conn.execute(f"ALTER TABLE {HISTORY_TABLE} OWNER TO {OWNER_ROLE}")


def grant_history_to_backup(conn: psycopg.Connection) -> None:
    """A backup holds the migration history too: the backup role reads it, once the role exists."""
    if conn.execute("SELECT to_regrole(%s) IS NOT NULL", (BACKUP_ROLE,)).fetchone()[0]:
        with conn.transaction():
            conn.execute(f"GRANT USAGE ON SCHEMA {HISTORY_SCHEMA} TO {BACKUP_ROLE}")
            conn.execute(f"GRANT SELECT ON {HISTORY_TABLE} TO {BACKUP_ROLE}")


def rollback(
    project: Project,
    conninfo: str,
    steps: int | None = 1,
    to: str | None = None,
    session: Session = Session(),
    out: Out = print,
    dry_run: bool = False,
) -> list[Unit]:
    with db.connect(conninfo, "bankdb", session) as conn, db.migration_lock(conn, session.lock_wait):
        citus = db.is_citus(conn)
        state = compute_state(read_tree(project, citus), read_history(conn))
        _refuse_if_blocked(state, "rollback")
        units = rollback_units(conn, state, steps, to)
        if dry_run:
            out(render_plan(units).rstrip())
        elif not units:
            out("Nothing to roll back.")
        else:
            execute(conn, units, out, citus)
        return units


def resolve(project: Project, conninfo: str, script_id: str, session: Session = Session(), out: Out = print) -> None:
    """Accept a drifted migration: record the file's current checksum, or forget a removed one."""
    with db.connect(conninfo, "bankdb", session) as conn, db.migration_lock(conn, session.lock_wait):
        history = read_history(conn)
        applied = history.get(script_id)
        if applied is None or applied.kind != "versioned":
            raise ProjectError(f"{script_id}: not an applied migration; nothing to resolve")
        files = {s.id: s for s in read_versioned(project.migrations)}
        with conn.transaction():
            if script_id in files:
                conn.execute(
                    f"UPDATE {HISTORY_TABLE} SET checksum = %s WHERE id = %s",
                    (files[script_id].checksum, script_id),
                )
                out(f"{script_id}: recorded the checksum of the file as it is now.")
            else:
                conn.execute(f"DELETE FROM {HISTORY_TABLE} WHERE id = %s", (script_id,))
                out(f"{script_id}: forgotten (its file is gone; its objects stay in the database).")


DISTRIBUTE_SCRIPT = ("scripts", "citus", "distribute.sql")


def distribute(project: Project, conninfo: str, session: Session = Session(), out: Out = print) -> int:
    """Distribute a migrated database on a Citus coordinator, empty or holding data, idempotently:
    migrate, run scripts/citus/distribute.sql, apply every repeatable script again (rendered for
    Citus), and check the derived totals. Returns how many tables it distributed this time."""
    script = project.root.joinpath(*DISTRIBUTE_SCRIPT)
    with db.connect(conninfo, "bankdb distribute", session) as conn:
        if not db.is_citus(conn):
            raise NotCitus(
                "distribute: this database has no citus extension; run it on a Citus coordinator "
                "(CREATE EXTENSION citus, and the workers added with citus_add_node)"
            )
        tree = read_tree(project, citus=True)
        migrate_on(conn, tree, session.lock_wait, out)
        with db.migration_lock(conn, session.lock_wait):
            before = _distributed_tables(conn)
            # Forgotten first, committed: if distributing fails half-way (its policies and
            # triggers taken off), the next migrate or distribute applies them all again.
            with conn.transaction():
                conn.execute(f"DELETE FROM {HISTORY_TABLE} WHERE kind = 'repeatable'")
            db.run_statements(conn, "/".join(DISTRIBUTE_SCRIPT), split_statements(script.read_text(encoding="utf-8")))
            moved = _distributed_tables(conn) - before
        out(f"Distributed {moved} table(s); applying the repeatable scripts for Citus:")
        migrate_on(conn, tree, session.lock_wait, out)
        wrong = conn.execute("SELECT count(*) FROM bank.verify_totals()").fetchone()[0]
        if wrong:
            raise ScriptError(
                f"distribute: bank.verify_totals() reports {wrong} derived total(s) that do not match the rows; "
                "run SELECT * FROM bank.verify_totals() for them, and bank.rebuild_totals() to rebuild them"
            )
        out("Derived totals verified: bank.verify_totals() is empty.")
        return moved


def _distributed_tables(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_dist_partition AS p "
        "JOIN pg_catalog.pg_class AS c ON c.oid = p.logicalrelid "
        "WHERE c.relnamespace = 'bank'::regnamespace"
    ).fetchone()[0]
