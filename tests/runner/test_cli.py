"""The bankdb command as a DBA runs it: separate processes, exit codes, output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from bankdb import cli, db, migrator
from bankdb.settings import LIBPQ_VARIABLES, Project

from ..conftest import PROJECT
from ..helpers import insert

COMMANDS = ["up", "migrate", "status", "plan", "rollback", "seed", "resolve", "backup", "restore", "maintain",
            "doctor", "drill", "server", "psql", "import"]


def bankdb_env(project: Project | None = None, url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (*LIBPQ_VARIABLES, "DATABASE_URL")}
    if url:
        env["DATABASE_URL"] = url
    if project:
        env["BANKDB_PROJECT_DIR"] = str(project.root)
    return env


def bankdb(*args: str, project: Project | None = None, url: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bankdb", *args], env=bankdb_env(project, url), capture_output=True, text=True,
        timeout=timeout,
    )


def database_url(server, conninfo: str) -> str:
    return server.url(psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str) -> None:
    result = bankdb(command, "--help")
    assert result.returncode == 0
    assert f"usage: bankdb {command}" in result.stdout
    assert "DATABASE_URL" in result.stdout
    assert "\n  141  the output pipe closed before all output was written (e.g. `bankdb plan | head`)\n" in result.stdout


def test_migrate_help_names_every_folder_it_applies() -> None:
    result = bankdb("migrate", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "then the repeatable scripts that changed, in this order: functions/" in text
    assert "views/ (the api and monitor views) and security/ (grants and row-level security policies)" in text


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
    assert "-- ==== functions/bank.tg__set_updated_at.sql" in plan.stdout
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
    assert tables == 23


def test_up_on_a_database_url_migrates_and_seeds(server, empty_db: str) -> None:
    result = bankdb("up", url=database_url(server, empty_db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Connected through DATABASE_URL."
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM bank.users").fetchone()[0] == 3


def test_up_connects_once_and_reads_the_tree_once(
    server, empty_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Migrating and seeding share one session and one reading of migrations/, functions/, views/..."""
    calls = {"connect": 0, "read_tree": 0}

    def counted(name: str, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(db, "connect", counted("connect", db.connect))
    monkeypatch.setattr(migrator, "read_tree", counted("read_tree", migrator.read_tree))
    for name in (*LIBPQ_VARIABLES, "BANKDB_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url(server, empty_db))
    assert cli.main(["up"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Connected through DATABASE_URL."
    assert calls == {"connect": 1, "read_tree": 1}
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
        assert up.stdout.splitlines()[1] == "Created database bankdb."
        assert f"  URL: {url}" in up.stdout
        assert bankdb("status", project=project_copy).returncode == 0
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'bank'").fetchone()[0] == 23
            # For monitor.top_queries: the embedded server preloads it, and up, its superuser, creates it.
            assert conn.execute(
                "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'"
            ).fetchone() == ("public",)
        again = bankdb("up", "--no-demo", project=project_copy)
        assert (again.returncode, "Created database" in again.stdout) == (0, False)
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
    # A rollback may be comments only (nothing to undo, V008); the last SQL line of each other one is printed.
    last_sql_lines = [
        [line for line in script.rollback_path.read_text().splitlines() if line.strip() and not line.startswith("--")]
        for script in newest
    ]
    assert any(last_sql_lines)
    for lines in last_sql_lines:
        if lines:
            assert lines[-1] in result.stdout
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


def test_plan_render_writes_what_each_template_applies_and_connects_to_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    # A URL nothing listens on: the command would fail if it connected.
    result = bankdb("plan", "--render", str(out), url="postgresql://nobody@127.0.0.1:1/nothing")
    assert (result.returncode, result.stderr) == (0, "")
    templates = [s.id.removesuffix(".j2") for s in migrator.read_repeatables(PROJECT.repeatable_dirs) if s.id.endswith(".j2")]
    assert {"functions/api.set_user.sql", "functions/bank.verify_totals.sql", "security/privileges.sql"} <= set(templates)
    written = [out / t for t in templates] + [out / "citus" / t for t in templates]
    assert result.stdout == "".join(f"wrote {path}\n" for path in written)
    for citus, folder in ((False, out), (True, out / "citus")):
        for script in migrator.read_repeatables(PROJECT.repeatable_dirs, citus):
            if script.id.endswith(".j2"):
                assert (folder / script.id.removesuffix(".j2")).read_text() == script.text
                assert "{%" not in script.text
    assert "GRANT SELECT ON bank.exchange_rates TO bank_app" in (out / "security" / "privileges.sql").read_text()
    # What differs for Citus: the acting user is a SET LOCAL that Citus sends to the workers.
    assert "SET LOCAL app.user_id" not in (out / "functions" / "api.set_user.sql").read_text()
    assert "SET LOCAL app.user_id" in (out / "citus" / "functions" / "api.set_user.sql").read_text()


def test_a_template_that_does_not_render_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "security").mkdir()
    (tmp_path / "security" / "broken.sql.j2").write_text("SELECT 1;\n{% if %}\n")
    result = bankdb("plan", "--render", str(tmp_path / "out"), project=Project(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", f"bankdb: a .sql.j2 template does not render: {tmp_path / 'security' / 'broken.sql.j2'}, line 2: "
               "Expected an expression, got 'end of statement block'\n"
    )
    assert not (tmp_path / "out").exists()


def test_maintain_schedule_without_pg_cron_is_one_line_and_schedules_nothing(server, db: str) -> None:
    result = bankdb("maintain", "--schedule", "7 * * * *", url=database_url(server, db))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "bankdb: pg_cron is not installed in this database; schedule `bankdb maintain` with cron instead\n"
    )


# -- errors: one line on stderr and an exit code, never a traceback ---------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "bankdb: DATABASE_URL 'notaurl' is not a connection URL (missing \"=\" after \"notaurl\" in "
                    "connection info string); expected postgresql://USER@HOST:PORT/DATABASE"),
        ("postgresql://u:s3cret@localhost:99999/db",
         "bankdb: DATABASE_URL 'postgresql://u:***@localhost:99999/db': port 99999 is not a TCP port (1-65535)"),
        ("postgres//u:s3cret@h/db", "bankdb: DATABASE_URL 'postgres//u:***@h/db' is not a connection URL (missing "
                                    "\"=\" after \"postgres//u:***@h/db\" in connection info string); "
                                    "expected postgresql://USER@HOST:PORT/DATABASE"),
    ],
)
def test_a_malformed_database_url_is_named_without_its_password(url: str, message: str) -> None:
    result = bankdb("status", url=url)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n")


def test_a_url_without_host_or_database_is_one_clear_line() -> None:
    # No host: libpq tries the default socket, where there may or may not be a server that refuses x.
    result = bankdb("migrate", url="postgresql://x:y@/")
    assert result.returncode == 1
    assert result.stderr.startswith("bankdb: cannot reach the database: connection")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.fixture
def login_without_privileges(server, db: str) -> Iterator[str]:
    """A URL for a new login that may connect to db and nothing else; the role is dropped after."""
    role = f"nopriv_{uuid.uuid4().hex[:8]}"
    dbname = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
    with psycopg.connect(db, autocommit=True) as conn:
        # A password in case the test server asks for one (CI's PostgreSQL 15).
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}'")
        conn.execute(f"GRANT CONNECT ON DATABASE {dbname} TO {role}")
    try:
        yield type(server)({**server.params, "user": role, "password": role}).url(dbname)
    finally:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"REVOKE CONNECT ON DATABASE {dbname} FROM {role}")
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    ("command", "denied"),
    [("status", "schema bankdb"), ("migrate", "schema bankdb"), ("seed", "schema bankdb"),
     ("doctor", "schema bank"), ("maintain", "schema bank")],
)
def test_a_login_without_privileges_gets_one_line_naming_what_it_lacks(
    db: str, login_without_privileges: str, command: str, denied: str
) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
    result = bankdb(command, url=login_without_privileges)
    assert (result.returncode, result.stderr) == (
        1,
        f"bankdb: permission denied for {denied.format(dbname=dbname)} (SQLSTATE 42501); this login lacks a "
        "privilege the command needs: run it as the DBA login that migrates (a member of bank_migrator)\n",
    )


def test_a_closed_output_pipe_is_one_line_and_exit_141(server, empty_db: str) -> None:
    """`bankdb plan | head -1`, with real processes and a real pipe: the plan is far longer than the pipe holds."""
    plan = subprocess.Popen([sys.executable, "-m", "bankdb", "plan"], env=bankdb_env(url=database_url(server, empty_db)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    head = subprocess.Popen(["head", "-1"], stdin=plan.stdout, stdout=subprocess.PIPE, text=True)
    plan.stdout.close()  # head alone reads it now
    first = head.communicate(timeout=60)[0]
    stderr = plan.stderr.read()
    plan.stderr.close()
    assert plan.wait(timeout=60) == 141
    assert first.startswith("-- Migrations and repeatable scripts run as bank_owner")
    assert stderr == "bankdb: the output pipe closed before all output was written (broken pipe)\n"


# -- psql, rollback --steps, status -----------------------------------------------------------


def test_psql_passes_every_argument_to_psql(server, db: str) -> None:
    url = database_url(server, db)
    assert bankdb("psql", "-c", "SELECT 40 + 2", "-At", url=url).stdout == "42\n"
    dbname = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
    after_dashes = bankdb("psql", "--", "-At", "-c", "SELECT current_database()", url=url)
    assert (after_dashes.returncode, after_dashes.stdout) == (0, dbname + "\n")
    failing = bankdb("psql", "-X", "-c", "SELECT 1/0", url=url)
    assert (failing.returncode, failing.stderr) == (1, "ERROR:  division by zero\n")  # psql's own exit status


@pytest.mark.parametrize(("steps", "message"), [
    ("0", "must be 1 or more, not 0"), ("-1", "must be 1 or more, not -1"),
    ("two", "must be a whole number, 1 or more, not 'two'"),
])
def test_rollback_refuses_a_step_count_below_one(server, db: str, steps: str, message: str) -> None:
    url = database_url(server, db)
    result = bankdb("rollback", "--steps", steps, url=url)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"bankdb rollback: error: argument --steps: {message}"
    assert bankdb("status", url=url).returncode == 0  # nothing was rolled back


def test_status_of_an_up_to_date_database_is_a_summary_and_verbose_lists_everything(server, db: str) -> None:
    url = database_url(server, db)
    migrations = migrator.read_versioned(PROJECT.migrations)
    repeatables = migrator.read_repeatables(PROJECT.repeatable_dirs)
    short = bankdb("status", url=url)
    assert short.returncode == 0
    lines = short.stdout.splitlines()
    assert lines[0] == "database: DATABASE_URL"
    assert re.fullmatch(
        rf"migrations: {len(migrations)} applied; newest {migrations[-1].id}, applied \d{{4}}-\d\d-\d\d [\d:]{{8}}[+-]\d{{4}}",
        lines[1],
    ), lines[1]
    assert lines[2:] == [f"repeatable scripts: {len(repeatables)} applied", "state: up to date"]

    verbose = bankdb("status", "--verbose", url=url)
    assert verbose.returncode == 0
    listed = [line.split()[1] for line in verbose.stdout.splitlines() if line.startswith("  applied  ")]
    assert listed == [m.id for m in migrations] + [r.id for r in repeatables]


def test_status_always_lists_what_is_pending(server, db: str, project_copy: Project) -> None:
    (project_copy.migrations / "V999_more.sql").write_text("SELECT 1;\n")
    result = bankdb("status", project=project_copy, url=database_url(server, db))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    released = migrator.read_versioned(PROJECT.migrations)
    assert lines[1].startswith(f"migrations: {len(released)} applied, 1 pending; newest {released[-1].id}, applied ")
    assert lines[2] == "  pending  V999_more"
    assert not any(line.startswith("  applied") for line in lines)


# -- up and seed keep the demo data -------------------------------------------------------------


def test_up_again_keeps_the_demo_users_and_what_was_added_to_them(server, empty_db: str) -> None:
    url = database_url(server, empty_db)
    assert bankdb("up", url=url).returncode == 0
    with psycopg.connect(empty_db) as conn:
        ada = conn.execute("SELECT id FROM bank.users WHERE email = 'ada@demo.bankdb.test'").fetchone()[0]
        conn.execute("SELECT api.set_user(%s)", (ada,))
        account = conn.execute(
            "SELECT id FROM bank.accounts WHERE user_id = %s AND account_type = 'checking'", (ada,)
        ).fetchone()[0]
        rule = insert(conn, "category_rules", user_id=ada, category="Groceries", keyword_pattern="corner shop")["id"]
        txn = insert(conn, "transactions", user_id=ada, account_id=account, amount="12.34", currency="USD",
                     txn_type="debit", txn_date=date.today(), description="Corner shop")["id"]
        before = conn.execute("SELECT array_agg(id ORDER BY id) FROM bank.users").fetchone()[0]

    again = bankdb("up", url=url)
    assert again.returncode == 0, again.stderr
    assert ("  seeds/demo.sql: kept the 3 demo users already here, and all they own "
            "(--replace-demo deletes and reloads them)") in again.stdout.splitlines()
    seed_again = bankdb("seed", "--demo", url=url)
    assert (seed_again.returncode, seed_again.stdout.splitlines()[-1]) == (
        0, "  seeds/demo.sql: kept the 3 demo users already here, and all they own "
           "(--replace-demo deletes and reloads them)")
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT array_agg(id ORDER BY id) FROM bank.users").fetchone()[0] == before
        assert conn.execute("SELECT user_id FROM bank.category_rules WHERE id = %s", (rule,)).fetchone() == (ada,)
        assert conn.execute("SELECT amount FROM bank.transactions WHERE id = %s", (txn,)).fetchone() == (
            Decimal("12.34"),)
        # Only demo users here: their derived rows, counted as the replacement will count them.
        totals, flows, balances = conn.execute(
            "SELECT (SELECT count(*) FROM bank.monthly_totals), (SELECT count(*) FROM bank.daily_flows),"
            " (SELECT count(*) FROM bank.account_balances)"
        ).fetchone()

    replaced = bankdb("seed", "--replace-demo", url=url)
    assert replaced.returncode == 0, replaced.stderr
    deleted = [line for line in replaced.stdout.splitlines() if line.startswith("  deleted ")]
    assert deleted == [
        f"  deleted the demo users and everything they owned: 3 users, {balances} account_balances, 6 accounts, "
        f"12 bills, 9 budgets, 1 category_rules, {flows} daily_flows, {totals} monthly_totals, 6 reward_entries, "
        "3 rewards, 170 transactions"
    ]
    with psycopg.connect(empty_db) as conn:
        after = conn.execute("SELECT array_agg(id ORDER BY id) FROM bank.users").fetchone()[0]
        assert len(after) == 3 and not set(after) & set(before)
        assert conn.execute("SELECT count(*) FROM bank.category_rules").fetchone()[0] == 0


def test_up_refuses_no_demo_with_replace_demo(server, db: str) -> None:
    result = bankdb("up", "--no-demo", "--replace-demo", url=database_url(server, db))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "bankdb up: error: argument --replace-demo: not allowed with argument --no-demo"
    )
