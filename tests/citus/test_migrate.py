"""bankdb migrate on a Citus coordinator: a first run and every later one, reaching the workers."""

from __future__ import annotations

import psycopg

from bankdb import migrator

from ..conftest import PROJECT
from .conftest import Cluster, on_nodes

ROUTINES = """
    SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
    FROM pg_proc AS p WHERE p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace) ORDER BY 1
"""


def test_a_first_migrate_applies_everything_and_its_functions_reach_every_worker(
    cluster: Cluster, citus_db: str
) -> None:
    lines: list[str] = []
    state = migrator.migrate(PROJECT, citus_db, out=lines.append)
    assert len(state.pending) == len(migrator.read_versioned(PROJECT.migrations))
    with psycopg.connect(citus_db) as conn:
        applied = conn.execute("SELECT count(*) FROM bankdb.migrations").fetchone()[0]
        logins = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'bank\\_%' AND rolcanlogin ORDER BY 1"
        ).fetchall()
    tree = migrator.read_tree(PROJECT, citus=True)
    assert applied == len(tree.versioned) + len(tree.repeatables)
    assert [r for (r,) in logins] == ["bank_admin", "bank_app", "bank_backup", "bank_migrator", "bank_owner",
                                      "bank_readonly"]
    coordinator, *workers = on_nodes(cluster, citus_db, ROUTINES)
    assert len(coordinator) > 40 and {owner for _, owner in coordinator} == {"bank_owner"}
    # Citus propagates a function once what it depends on is distributed: these return a row of a
    # table (bank.admin_logs, bank.import_batches) that is the coordinator's alone until it is
    # distributed. Only the coordinator calls them.
    with psycopg.connect(citus_db) as conn:
        local = {name for (name,) in conn.execute(
            """
            SELECT p.oid::regprocedure::text
            FROM pg_proc AS p
            JOIN pg_type AS t ON t.oid = p.prorettype
            JOIN pg_class AS c ON c.oid = t.typrelid AND c.relkind IN ('r', 'p')
            WHERE p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace)
            """
        )}
    assert local == {
        "bank.admin_disable_account(bigint,bigint,bigint,text)", "bank.admin_verify_kyc(bigint,bigint)",
        "api.import_transactions(bigint,jsonb,text,text,boolean)", "api.import_staged(bigint,text,text,boolean)",
        "api.undo_import(bigint)", "api.reconcile_statement(bigint)", "api.unreconcile_statement(bigint)",
        "api.accept_recurring_candidate(bigint)", "api.dismiss_recurring_candidate(bigint)",
    }
    for worker in workers:
        assert worker == [row for row in coordinator if row[0] not in local]


def test_a_later_migrate_has_nothing_to_do_and_a_changed_function_reaches_every_worker(
    cluster: Cluster, citus_db: str, project_copy
) -> None:
    migrator.migrate(PROJECT, citus_db, out=lambda _: None)
    lines: list[str] = []
    migrator.migrate(PROJECT, citus_db, out=lines.append)
    assert lines == ["Nothing to do: the database is up to date."]
    assert migrator.status(PROJECT, citus_db).exit_code == 0
    function = project_copy.root / "functions" / "bank.pair_rate.sql"
    function.write_text(function.read_text() + "\n-- changed\n")
    (project_copy.root / "security").mkdir()
    (project_copy.root / "security" / "privileges.sql.j2").write_text(
        (PROJECT.root / "security" / "privileges.sql.j2").read_text()
    )
    lines = []
    migrator.migrate(project_copy, citus_db, out=lines.append)
    assert lines[0] == "Applying 0 migration(s) and 1 repeatable script(s):"
    sources = on_nodes(
        cluster, citus_db, "SELECT prosrc FROM pg_proc WHERE oid = 'bank.pair_rate'::regproc"
    )
    assert sources[1:] == [sources[0]] * len(cluster.workers)
