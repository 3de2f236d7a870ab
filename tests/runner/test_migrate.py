"""The runner's guarantees, on small SQL trees written by each test into an empty database."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from bankdb import db, migrator
from bankdb.settings import Project

from ..helpers import in_parallel

QUIET = migrator.Session(lock_wait=5)


def write(tree: Path, name: str, sql: str) -> Path:
    path = tree / name
    path.write_text(sql)
    return path


def migrate(tree: Path, conninfo: str, session: migrator.Session = QUIET) -> list[str]:
    lines: list[str] = []
    migrator.migrate(Project(tree), conninfo, session, out=lines.append)
    return lines


def history(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        return {a.id: a.checksum for a in migrator.read_history(conn).values()}


def relation_exists(conninfo: str, name: str) -> bool:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def state(tree: Path, conninfo: str) -> migrator.State:
    return migrator.status(Project(tree), conninfo)


@pytest.fixture
def two_migrations(sql_tree: Path) -> Path:
    write(sql_tree, "migrations/V001_first.sql", "CREATE SCHEMA t;\nCREATE TABLE t.a (id bigint PRIMARY KEY);\n")
    write(sql_tree, "migrations/V001_first.rollback.sql", "DROP SCHEMA t CASCADE;\n")
    write(sql_tree, "migrations/V002_second.sql", "CREATE TABLE t.b (id bigint PRIMARY KEY);\n")
    write(sql_tree, "migrations/V002_second.rollback.sql", "DROP TABLE t.b;\n")
    return sql_tree


def test_migrate_applies_in_order_and_records_content_checksums(two_migrations: Path, empty_db: str) -> None:
    migrate(two_migrations, empty_db)
    assert relation_exists(empty_db, "t.a") and relation_exists(empty_db, "t.b")
    recorded = history(empty_db)
    assert recorded == {
        "V001_first": migrator.checksum((two_migrations / "migrations/V001_first.sql").read_text()),
        "V002_second": migrator.checksum((two_migrations / "migrations/V002_second.sql").read_text()),
    }
    assert state(two_migrations, empty_db).exit_code == 0
    assert migrate(two_migrations, empty_db) == ["Nothing to do: the database is up to date."]


def test_a_failing_migration_leaves_no_schema_change_and_no_record(two_migrations: Path, empty_db: str) -> None:
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V003_third.sql", "CREATE TABLE t.c (id bigint);\nCREATE TABLE t.c (id bigint);\n")
    with pytest.raises(migrator.ScriptError) as failure:
        migrate(two_migrations, empty_db)
    assert "V003_third failed at: CREATE TABLE t.c (id bigint);" in str(failure.value)
    assert "42P07" in str(failure.value)
    assert not relation_exists(empty_db, "t.c")
    assert "V003_third" not in history(empty_db)


def test_a_failure_in_a_run_undoes_the_whole_run(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "migrations/V003_third.sql", "SELECT 1 / 0;\n")
    with pytest.raises(migrator.ScriptError, match="22012 division by zero"):
        migrate(two_migrations, empty_db)
    assert not relation_exists(empty_db, "t.a")
    assert history(empty_db) == {}


def test_an_edited_migration_is_drift_and_blocks_migrate(two_migrations: Path, empty_db: str) -> None:
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V002_second.sql", "CREATE TABLE t.b (id bigint PRIMARY KEY, x int);\n")
    write(two_migrations, "migrations/V003_third.sql", "CREATE TABLE t.c (id bigint);\n")
    current = state(two_migrations, empty_db)
    assert current.exit_code == 2
    assert current.drift[0].startswith("V002_second: edited since it was applied")
    with pytest.raises(migrator.DriftError, match="migrate refused"):
        migrate(two_migrations, empty_db)
    assert not relation_exists(empty_db, "t.c")


@pytest.mark.parametrize("change", ["removed", "renamed"])
def test_a_removed_or_renamed_migration_is_drift(two_migrations: Path, empty_db: str, change: str) -> None:
    migrate(two_migrations, empty_db)
    old = two_migrations / "migrations/V002_second.sql"
    if change == "removed":
        old.unlink()
    else:
        old.rename(two_migrations / "migrations/V002_second_table.sql")
    current = state(two_migrations, empty_db)
    assert current.exit_code == 2
    assert current.drift == ["V002_second: applied, but its file is gone (removed or renamed)"]


def test_resolve_accepts_an_edited_migration(two_migrations: Path, empty_db: str) -> None:
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V002_second.sql", "CREATE TABLE t.b (id bigint PRIMARY KEY); -- reviewed\n")
    migrator.resolve(Project(two_migrations), empty_db, "V002_second", QUIET, out=lambda _: None)
    assert state(two_migrations, empty_db).exit_code == 0


def test_a_migration_older_than_the_newest_applied_is_refused(two_migrations: Path, empty_db: str) -> None:
    (two_migrations / "migrations/V002_second.sql").rename(two_migrations / "migrations/V003_second.sql")
    (two_migrations / "migrations/V002_second.rollback.sql").unlink()
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V002_late.sql", "CREATE TABLE t.late (id bigint);\n")
    current = state(two_migrations, empty_db)
    assert current.exit_code == 2
    assert current.out_of_order == [
        "V002_late: not applied, but older than the newest applied migration; give it a version after the newest one"
    ]
    with pytest.raises(migrator.DriftError):
        migrate(two_migrations, empty_db)
    assert not relation_exists(empty_db, "t.late")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("V1_short.sql", "a migration is named V<3+ digits>_<lower_case_words>.sql"),
        ("V003_Upper.sql", "a migration is named V<3+ digits>_<lower_case_words>.sql"),
        ("V001_again.sql", "V001_first.sql: version 1 is taken by V001_again.sql"),
    ],
)
def test_badly_named_migrations_are_refused(two_migrations: Path, empty_db: str, name: str, message: str) -> None:
    write(two_migrations, f"migrations/{name}", "SELECT 1;\n")
    with pytest.raises(migrator.ProjectError, match=re.escape(message)):
        migrate(two_migrations, empty_db)
    assert history(empty_db) == {}


def test_a_non_transactional_migration_runs_outside_a_transaction(two_migrations: Path, empty_db: str) -> None:
    # CREATE INDEX CONCURRENTLY fails inside a transaction block: this proves it ran outside one.
    write(
        two_migrations,
        "migrations/V003_index.sql",
        "-- transactional: false\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_id_idx ON t.a (id);\n",
    )
    lines = migrate(two_migrations, empty_db)
    assert any(line.startswith("  V003_index (") and "outside a transaction" in line for line in lines)
    assert relation_exists(empty_db, "t.a_id_idx")
    assert "V003_index" in history(empty_db)


def test_a_non_transactional_migration_must_be_one_statement(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "migrations/V003_index.sql", "-- transactional: false\nSELECT 1;\nSELECT 2;\n")
    with pytest.raises(migrator.ProjectError, match="must hold exactly one statement \\(it has 2\\)"):
        migrate(two_migrations, empty_db)


def test_repeatables_run_after_migrations_and_again_only_when_changed(two_migrations: Path, empty_db: str) -> None:
    fn = "CREATE OR REPLACE FUNCTION t.answer() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT {} $$;\n"
    write(two_migrations, "functions/answer.sql", fn.format(41))
    write(two_migrations, "views/v.sql", "CREATE OR REPLACE VIEW t.v AS SELECT t.answer() AS answer, id FROM t.b;\n")
    lines = migrate(two_migrations, empty_db)
    assert [line.split(" (")[0].strip() for line in lines[1:]] == [
        "V001_first", "V002_second", "functions/answer.sql", "views/v.sql",
    ]
    assert migrate(two_migrations, empty_db) == ["Nothing to do: the database is up to date."]

    write(two_migrations, "functions/answer.sql", fn.format(42))
    assert state(two_migrations, empty_db).exit_code == 1
    lines = migrate(two_migrations, empty_db)
    assert [line.split(" (")[0].strip() for line in lines[1:]] == ["functions/answer.sql"]
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT t.answer()").fetchone()[0] == 42


def test_a_migration_may_change_a_column_under_a_view(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "views/v.sql", "CREATE OR REPLACE VIEW t.v AS SELECT id FROM t.b;\n")
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V003_widen.sql", "ALTER TABLE t.b ALTER COLUMN id TYPE numeric;\n")
    lines = migrate(two_migrations, empty_db)
    assert lines[1].startswith("  drop the views of t (re-created from views/ in this run)")
    with psycopg.connect(empty_db) as conn:
        assert conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'v' AND column_name = 'id'"
        ).fetchone()[0] == "numeric"


def test_a_changed_view_may_change_a_column_type_and_what_follows_views_runs_again(
    two_migrations: Path, empty_db: str
) -> None:
    (two_migrations / "security").mkdir()
    write(two_migrations, "views/v.sql", "CREATE OR REPLACE VIEW t.v AS SELECT id FROM t.b;\n")
    write(two_migrations, "security/grants.sql", "COMMENT ON VIEW t.v IS 'described after the views';\n")
    migrate(two_migrations, empty_db)
    write(two_migrations, "views/v.sql", "CREATE OR REPLACE VIEW t.v AS SELECT id::text AS id FROM t.b;\n")
    lines = migrate(two_migrations, empty_db)
    assert [line.split(" (")[0].strip() for line in lines[1:]] == [
        "drop the views of t", "views/v.sql", "security/grants.sql",
    ]
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT obj_description('t.v'::regclass)").fetchone()[0] == "described after the views"
        assert conn.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'v'").fetchone()[0] == "text"


def test_a_template_is_applied_as_rendered_and_plan_shows_the_rendering(two_migrations: Path, empty_db: str) -> None:
    write(
        two_migrations,
        "functions/comments.sql.j2",
        "{% for t in ['a', 'b'] %}COMMENT ON TABLE t.{{ t }} IS 'table {{ t }}';\n{% endfor %}",
    )
    _, units = migrator.plan(Project(two_migrations), empty_db)
    assert "COMMENT ON TABLE t.b IS 'table b';" in migrator.render_plan(units)
    migrate(two_migrations, empty_db)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT obj_description('t.b'::regclass)").fetchone()[0] == "table b"


def test_a_removed_repeatable_is_forgotten(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "functions/f.sql", "CREATE FUNCTION t.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n")
    migrate(two_migrations, empty_db)
    (two_migrations / "functions/f.sql").unlink()
    current = state(two_migrations, empty_db)
    assert (current.exit_code, current.repeatables_removed) == (1, ["functions/f.sql"])
    migrate(two_migrations, empty_db)
    assert "functions/f.sql" not in history(empty_db)


def test_plan_prints_the_sql_and_changes_nothing(two_migrations: Path, empty_db: str) -> None:
    _, units = migrator.plan(Project(two_migrations), empty_db)
    text = migrator.render_plan(units)
    assert text.splitlines()[3] == "BEGIN;"  # after the two comment lines on roles and a blank one
    assert "CREATE TABLE t.a (id bigint PRIMARY KEY);" in text
    assert "CREATE TABLE t.b (id bigint PRIMARY KEY);" in text
    assert text.rstrip().endswith("COMMIT;")
    assert not relation_exists(empty_db, "t.a")
    assert not relation_exists(empty_db, migrator.HISTORY_TABLE)


def test_a_held_lock_makes_migrate_wait_then_fail_clearly(two_migrations: Path, empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.LOCK_KEY,))
        holder_pid = holder.info.backend_pid
        with pytest.raises(db.LockTimeout) as failure:
            migrate(two_migrations, empty_db, migrator.Session(lock_wait=1))
    assert f"gave up after 1s waiting for the migration lock held by backend pid {holder_pid}" in str(failure.value)
    assert history(empty_db) == {}


def test_a_crashed_holder_leaves_no_stale_lock(two_migrations: Path, empty_db: str, server) -> None:
    holder = psycopg.connect(empty_db, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (db.LOCK_KEY,))
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:  # the holder's backend dies
        admin.execute("SELECT pg_terminate_backend(%s)", (holder.info.backend_pid,))
    migrate(two_migrations, empty_db, migrator.Session(lock_wait=10))
    assert set(history(empty_db)) == {"V001_first", "V002_second"}
    holder.close()


@pytest.mark.parametrize("operation", ["migrate", "rollback", "resolve"])
def test_a_run_whose_session_is_lost_under_the_lock_reports_why(
    two_migrations: Path, empty_db: str, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    """The lock is not released on a lost session (it died with it): the error is the one that lost it."""
    migrate(two_migrations, empty_db)
    read_history = migrator.read_history

    def lose_the_session(conn: psycopg.Connection) -> dict:
        conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return read_history(conn)

    monkeypatch.setattr(migrator, "read_history", lose_the_session)
    project = Project(two_migrations)
    run = {
        "migrate": lambda: migrator.migrate(project, empty_db, QUIET, out=lambda _: None),
        "rollback": lambda: migrator.rollback(project, empty_db, steps=1, session=QUIET, out=lambda _: None),
        "resolve": lambda: migrator.resolve(project, empty_db, "V002_second", QUIET, out=lambda _: None),
    }[operation]
    with pytest.raises(psycopg.errors.AdminShutdown, match="terminating connection due to administrator command"):
        run()
    monkeypatch.undo()
    assert migrate(two_migrations, empty_db, migrator.Session(lock_wait=1)) == [
        "Nothing to do: the database is up to date."
    ]


def test_the_migration_lock_is_released_when_its_block_fails(empty_db: str) -> None:
    with db.connect(empty_db, "bankdb test") as conn:
        with pytest.raises(ZeroDivisionError), db.migration_lock(conn, 1):
            raise ZeroDivisionError
        held = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).fetchone()[0]
    assert held == 0


def test_migration_sessions_have_lock_and_statement_timeouts(two_migrations: Path, empty_db: str) -> None:
    migrate(two_migrations, empty_db)
    write(two_migrations, "migrations/V003_alter.sql", "ALTER TABLE t.a ADD COLUMN x int;\n")
    with psycopg.connect(empty_db) as blocker:  # holds a lock on t.a in an open transaction
        blocker.execute("SELECT * FROM t.a")
        with pytest.raises(migrator.ScriptError, match="55P03 canceling statement due to lock timeout"):
            migrate(two_migrations, empty_db, migrator.Session(lock_wait=5, lock_timeout="200ms"))
    (two_migrations / "migrations/V003_alter.sql").write_text("SELECT pg_sleep(3);\n")
    with pytest.raises(migrator.ScriptError, match="57014 canceling statement due to statement timeout"):
        migrate(two_migrations, empty_db, migrator.Session(lock_wait=5, statement_timeout="200ms"))
    assert "V003_alter" not in history(empty_db)


def test_concurrent_migrate_runs_apply_each_migration_once(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "migrations/V003_slow.sql", "SELECT pg_sleep(1);\nCREATE TABLE t.c (id bigint);\n")
    outputs: list[list[str]] = [[], []]

    def run(index: int) -> None:
        migrator.migrate(Project(two_migrations), empty_db, migrator.Session(lock_wait=30), out=outputs[index].append)

    assert in_parallel(run, range(2)) == []
    assert sorted(o[0] for o in outputs) == [
        "Applying 3 migration(s) and 0 repeatable script(s):",
        "Nothing to do: the database is up to date.",
    ]
    assert set(history(empty_db)) == {"V001_first", "V002_second", "V003_slow"}


def test_rollback_steps_and_to(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "migrations/V003_third.sql", "CREATE TABLE t.c (id bigint);\n")
    write(two_migrations, "migrations/V003_third.rollback.sql", "DROP TABLE t.c;\n")
    project = Project(two_migrations)
    migrate(two_migrations, empty_db)
    migrator.rollback(project, empty_db, steps=1, session=QUIET, out=lambda _: None)
    assert set(history(empty_db)) == {"V001_first", "V002_second"}
    assert not relation_exists(empty_db, "t.c")
    migrate(two_migrations, empty_db)
    migrator.rollback(project, empty_db, steps=None, to="V001_first", session=QUIET, out=lambda _: None)
    assert set(history(empty_db)) == {"V001_first"}
    assert relation_exists(empty_db, "t.a") and not relation_exists(empty_db, "t.b")


def test_rollback_without_a_rollback_file_changes_nothing(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "migrations/V003_third.sql", "CREATE TABLE t.c (id bigint);\n")
    migrate(two_migrations, empty_db)
    with pytest.raises(migrator.ProjectError, match="V003_third: no rollback file \\(V003_third.rollback.sql\\)"):
        migrator.rollback(Project(two_migrations), empty_db, steps=2, session=QUIET, out=lambda _: None)
    assert set(history(empty_db)) == {"V001_first", "V002_second", "V003_third"}
    assert relation_exists(empty_db, "t.b")


def test_rollback_forgets_repeatables_so_the_next_migrate_reapplies_them(two_migrations: Path, empty_db: str) -> None:
    write(two_migrations, "functions/f.sql", "CREATE OR REPLACE FUNCTION t.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n")
    migrate(two_migrations, empty_db)
    migrator.rollback(Project(two_migrations), empty_db, steps=2, session=QUIET, out=lambda _: None)
    assert history(empty_db) == {}
    migrate(two_migrations, empty_db)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT t.f()").fetchone()[0] == 1
