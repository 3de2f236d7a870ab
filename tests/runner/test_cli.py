"""The bankdb command as a DBA runs it: separate processes, exit codes, output."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from bankdb import migrator
from bankdb.settings import LIBPQ_VARIABLES, Project

from ..conftest import PROJECT

COMMANDS = ["up", "migrate", "status", "plan", "rollback", "seed", "resolve", "server", "psql"]


def bankdb(*args: str, project: Project | None = None, url: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (*LIBPQ_VARIABLES, "DATABASE_URL")}
    if url:
        env["DATABASE_URL"] = url
    if project:
        env["BANKDB_PROJECT_DIR"] = str(project.root)
    return subprocess.run(
        [sys.executable, "-m", "bankdb", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def database_url(server, conninfo: str) -> str:
    return server.url(psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str) -> None:
    result = bankdb(command, "--help")
    assert result.returncode == 0
    assert f"usage: bankdb {command}" in result.stdout
    assert "DATABASE_URL" in result.stdout


def test_status_exit_codes_follow_the_state(server, empty_db: str, project_copy: Project) -> None:
    url = database_url(server, empty_db)
    pending = bankdb("status", project=project_copy, url=url)
    assert (pending.returncode, pending.stdout.splitlines()[-1]) == (
        1, "state: pending work: run `bankdb migrate` (`bankdb plan` shows the SQL)"
    )
    assert bankdb("migrate", project=project_copy, url=url).returncode == 0
    current = bankdb("status", project=project_copy, url=url)
    assert (current.returncode, current.stdout.splitlines()[-1]) == (0, "state: up to date")

    applied = project_copy.migrations / "V002_budgets_and_rules.sql"
    applied.write_text(applied.read_text() + "\n-- an innocent-looking edit\n")
    drift = bankdb("status", project=project_copy, url=url)
    assert drift.returncode == 2
    assert "  DRIFT    V002_budgets_and_rules: edited since it was applied" in drift.stdout
    refused = bankdb("migrate", project=project_copy, url=url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("bankdb: migrate refused: the migration files and the database's history disagree")


def test_plan_prints_what_migrate_runs_and_changes_nothing(server, empty_db: str) -> None:
    url = database_url(server, empty_db)
    plan = bankdb("plan", url=url)
    assert plan.returncode == 0
    assert "\n\nBEGIN;\n\n-- ==== V001_initial_schema\n\n-- V001: users" in plan.stdout
    assert "CREATE TABLE bank.transactions (" in plan.stdout
    assert "-- ==== functions/tg__set_updated_at.sql" in plan.stdout
    assert plan.stdout.rstrip().endswith("COMMIT;")
    assert bankdb("status", url=url).returncode == 1  # still nothing applied


def test_two_concurrent_migrate_processes_leave_one_schema_and_one_record_each(
    server, empty_db: str, project_copy: Project
) -> None:
    # A slow last migration keeps the first run busy while the second one waits for the lock.
    (project_copy.migrations / "V999_slow.sql").write_text("SELECT pg_sleep(1);\n")
    url = database_url(server, empty_db)
    env = {k: v for k, v in os.environ.items() if k not in (*LIBPQ_VARIABLES,)}
    env.update(DATABASE_URL=url, BANKDB_PROJECT_DIR=str(project_copy.root))
    runs = [
        subprocess.Popen([sys.executable, "-m", "bankdb", "migrate"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = sorted(run.communicate(timeout=120)[0].splitlines()[0] for run in runs)
    repeatables = [s.id for s in migrator.read_repeatables(project_copy.repeatable_dirs)]
    migrations = [s.id for s in migrator.read_versioned(project_copy.migrations)]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == [
        f"Applying {len(migrations)} migration(s) and {len(repeatables)} repeatable script(s):",
        "Nothing to do: the database is up to date.",
    ]
    with psycopg.connect(empty_db) as conn:
        recorded = conn.execute(f"SELECT id, count(*) FROM {migrator.HISTORY_TABLE} GROUP BY id ORDER BY id").fetchall()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'bank'").fetchone()[0]
    assert [r[0] for r in recorded] == sorted(migrations) + repeatables
    assert migrations[-1] == "V999_slow"
    assert {r[1] for r in recorded} == {1}
    assert tables == 14


def test_up_on_a_database_url_migrates_and_seeds(server, empty_db: str) -> None:
    result = bankdb("up", url=database_url(server, empty_db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Connected through DATABASE_URL."
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM bank.users").fetchone()[0] == 3


def test_an_unreachable_database_is_a_clear_error() -> None:
    result = bankdb("status", url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert result.returncode == 1
    assert result.stderr.startswith("bankdb: cannot reach the database: connection failed")


def test_the_embedded_server_quick_start(project_copy: Project) -> None:
    """No DATABASE_URL, no PG*: `up` starts a server under the project's .bankdb/ and leaves it running."""
    try:
        up = bankdb("up", project=project_copy)
        assert up.returncode == 0, up.stderr
        url = f"postgresql://postgres@/bankdb?host={project_copy.root / '.bankdb' / 'run'}&port=5432"
        assert up.stdout.startswith(f"Started the embedded PostgreSQL server ({project_copy.root / '.bankdb'}).")
        assert f"  URL: {url}" in up.stdout
        assert bankdb("status", project=project_copy).returncode == 0
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'bank'").fetchone()[0] == 14
        running = bankdb("server", "status", project=project_copy)
        assert (running.returncode, running.stdout.startswith("running, pid ")) == (0, True)
        assert bankdb("server", "stop", project=project_copy).returncode == 0
        stopped = bankdb("server", "status", project=project_copy)
        assert (stopped.returncode, stopped.stdout) == (1, f"not running ({project_copy.root / '.bankdb'})\n")
    finally:
        bankdb("server", "stop", project=project_copy)


def test_rollback_dry_run_prints_and_changes_nothing(server, db: str) -> None:
    url = database_url(server, db)
    result = bankdb("rollback", "--dry-run", "--steps", "2", url=url)
    assert result.returncode == 0
    newest = migrator.read_versioned(PROJECT.migrations)[-2:]
    for script in newest:
        assert f"-- ==== roll back {script.id}" in result.stdout
    # The newest rollback may be comments only (nothing to undo); the SQL of the one before is printed.
    assert newest[0].rollback_path.read_text().strip().splitlines()[-1] in result.stdout
    assert bankdb("status", url=url).returncode == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--keep-months", "3"], "bankdb: --keep-months needs --archive-dir: partitions are dropped only once archived"),
        (["--keep-months", "0", "--archive-dir", "x"], "bankdb: --keep-months must keep at least one month, not 0"),
    ],
)
def test_maintain_refuses_bad_retention_options_before_doing_anything(server, db: str, options, message) -> None:
    partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'bank.transactions'::regclass"
    with psycopg.connect(db) as conn:
        before = conn.execute(partitions).fetchone()[0]
    result = bankdb("maintain", *options, url=database_url(server, db))
    assert result.returncode == 1
    assert result.stderr.strip() == message
    with psycopg.connect(db) as conn:  # no partition was made ahead: maintenance did not run
        assert conn.execute(partitions).fetchone()[0] == before
