"""docs/reference/ is what the catalog says, every bank table is in a group, and `bankdb docs` says so."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from bankdb import reference

from .conftest import REPO
from .runner.test_cli import bankdb, database_url

COMMITTED = REPO / "docs" / "reference"


@pytest.fixture(scope="module")
def generated(module_db: str) -> dict[str, str]:
    return reference.render(reference.catalog(module_db))


def test_the_committed_reference_is_what_the_catalog_says(generated: dict[str, str]) -> None:
    differ = reference.differences(generated, COMMITTED)
    assert not differ, (
        "docs/reference/ differs from the migrated schema's catalog: run `bankdb docs` on a database migrated "
        "to the newest migration and commit the result:\n  " + "\n  ".join(differ)
    )


def test_every_bank_table_is_in_exactly_one_group(module_db: str) -> None:
    problems = reference.grouping_problems(reference.catalog(module_db))
    assert not problems, "\n".join(problems)


def test_partitions_are_left_out(generated: dict[str, str]) -> None:
    # The template has the test months' partitions; the reference names none of them.
    text = "".join(generated.values())
    assert not re.search(r"transactions_\d{4}_\d{2}", text)
    assert "`bank_partitions.transactions_YYYY_MM`" in generated["README.md"]


def test_the_reference_shows_what_a_dba_looks_for(generated: dict[str, str]) -> None:
    bank = generated["bank.md"]
    assert "| `user_id` | `bigint` | PK FK | yes | `bank.acting_user_id()` |  |" in bank
    assert ("| `_050_require_acting_user` | `BEFORE INSERT OR DELETE OR UPDATE FOR EACH STATEMENT EXECUTE FUNCTION "
            "bank.tg__require_acting_user()` |") in bank
    assert ("| `acting_user` | ALL | `bank_app`, `bank_readonly` | `(user_id = ( SELECT api.current_user_id() AS "
            "current_user_id))` | `(user_id = ( SELECT api.current_user_id() AS current_user_id))` |") in bank
    assert ("| `bank_app` | SELECT, INSERT (user_id, month, year, category, limit_amount, warning_percent, rollover), "
            "UPDATE (month, year, category, limit_amount, warning_percent, rollover), DELETE |") in bank
    assert "| `bank.txn_type` | `debit`, `credit` |" in bank
    api = generated["api.md"]
    assert "Options: `security_invoker=true`" in api
    assert ("`api.register_user(p_name text, p_email text, p_password_hash text, p_phone text DEFAULT NULL::text, "
            "p_base_currency text DEFAULT 'USD'::text)` → `bigint`\n\n"
            "- function in sql, VOLATILE, SECURITY DEFINER, SET `search_path=pg_catalog, pg_temp`\n"
            "- EXECUTE: `bank_app`\n") in api
    readme = generated["README.md"]
    assert "```mermaid\nerDiagram\n" in readme
    assert '    accounts ||--o{ transactions : "user_id, account_id"' in readme
    assert '    category_master |o--o{ transactions : "category"' in readme
    svg = generated["er-bank.svg"]
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    for group in reference.GROUPS:
        assert f">{group.replace('&', '&amp;')}</text>" in svg


def test_a_table_in_no_group_is_shown_under_other_and_fails(server, db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE bank.savings_goals (id bigint PRIMARY KEY)")
    cat = reference.catalog(db)
    assert [t.name for t in reference.groups(cat)[reference.OTHER]] == ["savings_goals"]
    assert reference.grouping_problems(cat) == [
        "table bank.savings_goals is in no group: add it to GROUPS in bankdb/reference.py"
    ]
    files = reference.render(cat)
    assert "### Other (not yet placed)\n\n| table | what it holds |\n|---|---|\n| [`savings_goals`]" in files["README.md"]
    assert ">Other (not yet placed)</text>" in files["er-bank.svg"]

    result = bankdb("docs", "--out", str(tmp_path), url=database_url(server, db))
    assert result.returncode == 1
    assert result.stderr == "bankdb: table bank.savings_goals is in no group: add it to GROUPS in bankdb/reference.py\n"
    assert (tmp_path / "README.md").read_text() == files["README.md"]


def test_docs_check_names_the_files_that_differ(server, module_db: str, tmp_path: Path) -> None:
    url = database_url(server, module_db)
    written = bankdb("docs", "--out", str(tmp_path), url=url)
    assert (written.returncode, written.stderr) == (0, "")
    assert written.stdout.splitlines()[-1] == f"{tmp_path}: 5 files, 5 changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "api.md", "bank.md", "er-bank.svg", "monitor.md"]
    assert bankdb("docs", "--check", "--out", str(tmp_path), url=url).returncode == 0

    (tmp_path / "api.md").write_text("edited by hand\n")
    (tmp_path / "bank.md").unlink()
    (tmp_path / "notes.md").write_text("not generated\n")
    checked = bankdb("docs", "--check", "--out", str(tmp_path), url=url)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        f"{tmp_path}/api.md: differs from the catalog",
        f"{tmp_path}/bank.md: missing",
        f"{tmp_path}/notes.md: not generated (remove it)",
    ]
    assert checked.stderr == "bankdb: the reference differs from the catalog: run `bankdb docs` to regenerate it\n"
    assert (tmp_path / "api.md").read_text() == "edited by hand\n"  # --check writes nothing


def test_docs_explains_itself() -> None:
    result = bankdb("docs", "--help")
    assert result.returncode == 0
    assert "usage: bankdb docs [-h] [--out DIR] [--check]" in result.stdout
    assert "DATABASE_URL" in result.stdout
