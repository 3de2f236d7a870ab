"""Upgrading a database across the renaming of functions/ and views/ to `<schema>.<name>.sql`.

The old tree is this tree with each file given back the name it had before (the rule of the
time: a function's name without its schema, `api_` in front when `bank` has a function of that
name; a view's name, `monitor_<name>` for schema `monitor`), so the test needs no git history.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bankdb import migrator
from bankdb.settings import Project

from ..conftest import PROJECT, Server, database
from ..migrations.test_rollback import schema_dump

QUIET = migrator.Session(lock_wait=5)
RENAMED = ("functions", "views")


def old_name(path: Path) -> str:
    schema, name = path.name.removesuffix(".sql").split(".")
    if path.parent.name == "views":
        return f"monitor_{name}.sql" if schema == "monitor" else f"{name}.sql"
    bank_twin = path.with_name(f"bank.{name}.sql")
    twin = bank_twin.exists() or bank_twin.with_name(bank_twin.name + ".j2").exists()  # made a template since
    return f"api_{name}.sql" if schema == "api" and twin else f"{name}.sql"


@pytest.fixture
def old_tree(tmp_path: Path) -> Project:
    for folder in ("migrations", *RENAMED, "security", "seeds"):
        shutil.copytree(PROJECT.root / folder, tmp_path / folder)
    for folder in RENAMED:
        for path in sorted((tmp_path / folder).glob("*.sql")):
            path.rename(path.with_name(old_name(path)))
        # Templates made since (for Citus) were plain files then: their single-node rendering.
        for script in migrator.read_repeatables([tmp_path / folder]):
            if script.path.name.endswith(".j2"):
                plain = script.path.with_name(script.path.name.removesuffix(".j2"))
                plain.with_name(old_name(plain)).write_text(script.text)
                script.path.unlink()
    return Project(tmp_path)


@pytest.fixture
def fresh_db(server: Server) -> Iterator[str]:
    yield from database(server, None)


def repeatable_history(conninfo: str) -> dict[str, object]:
    """Each recorded repeatable script and when it was applied."""
    with psycopg.connect(conninfo) as conn:
        return {a.id: a.applied_at for a in migrator.read_history(conn).values() if a.kind == "repeatable"}


def ids(project: Project) -> list[str]:
    return sorted(
        f"{folder}/{p.name}" for folder in RENAMED for p in (project.root / folder).iterdir()
        if p.name.endswith((".sql", ".sql.j2"))
    )


def test_migrating_across_the_renames_forgets_the_old_names_and_applies_the_new_ones_in_one_run(
    old_tree: Project, empty_db: str, fresh_db: str
) -> None:
    old_ids, new_ids = ids(old_tree), ids(PROJECT)
    # The old tree is the one released before the renames (and sorted its views differently).
    assert {"functions/api_link_transfer.sql", "functions/set_user.sql", "functions/statement_stats.sql",
            "functions/tg_transactions__prepare.sql", "views/monitor_top_queries.sql",
            "views/net_worth.sql"} <= set(old_ids)
    assert {"functions/bank.link_transfer.sql", "functions/api.link_transfer.sql", "functions/api.set_user.sql.j2",
            "functions/monitor.statement_stats.sql", "views/monitor.top_queries.sql"} <= set(new_ids)
    assert len(old_ids) == len(new_ids) and not set(old_ids) & set(new_ids)

    migrator.migrate(old_tree, empty_db, QUIET, out=lambda _: None)
    assert set(repeatable_history(empty_db)) == {*old_ids, "security/privileges.sql.j2"}

    before = migrator.status(PROJECT, empty_db)
    assert (before.exit_code, before.pending, before.repeatables_removed) == (1, [], old_ids)
    assert sorted(s.id for s in before.repeatables_due) == sorted([*new_ids, "security/privileges.sql.j2"])

    lines: list[str] = []
    migrator.migrate(PROJECT, empty_db, QUIET, out=lines.append)
    labels = [line.split(" (")[0].strip() for line in lines]
    # new_ids sorts as views/ applies them: api.net_worth after api.account_summary, which it reads.
    assert labels == [
        f"Applying 0 migration(s) and {len(new_ids) + 1} repeatable script(s):",
        "drop the views of api, monitor",
        *new_ids,
        "security/privileges.sql.j2",
        "forget repeatable scripts whose files are gone",
        "seeds/currencies.sql", "seeds/categories.sql", "seeds/partitions_ahead.sql",
    ]

    after = repeatable_history(empty_db)
    assert sorted(after) == sorted([*new_ids, "security/privileges.sql.j2"])
    # One transaction applied them all (applied_at is its now()), the forgetting included.
    assert len(set(after.values())) == 1
    assert migrator.status(PROJECT, empty_db).exit_code == 0

    migrator.migrate(PROJECT, fresh_db, QUIET, out=lambda _: None)
    assert schema_dump(empty_db) == schema_dump(fresh_db)
