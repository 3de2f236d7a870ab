"""STYLE.md's rules for functions and views, checked on the files and in the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from ..conftest import PROJECT


def sql_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith((".sql", ".sql.j2")))


# One function per file, templates (.sql.j2) included: their text already shows the one function.
FILES = sql_files(PROJECT.root / "functions")
VIEW_FILES = sql_files(PROJECT.root / "views")
DEFINES = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(?:FUNCTION|VIEW)\s+(\w+\.\w+)", re.IGNORECASE | re.MULTILINE)


def stem(path: Path) -> str:
    return path.name.removesuffix(".j2").removesuffix(".sql")


def misnamed(paths: list[Path]) -> list[str]:
    """Files not named after the one function or view they define: `<schema>.<name>.sql[.j2]`."""
    wrong = []
    for path in paths:
        names = [n.lower() for n in DEFINES.findall(path.read_text())]
        if names != [stem(path)]:
            wrong.append(f"{path.parent.name}/{path.name} defines {', '.join(names) or 'nothing'}")
    return wrong


def test_every_file_is_named_after_the_function_or_view_it_defines() -> None:
    assert misnamed(FILES + VIEW_FILES) == []


def test_a_misnamed_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    files = {
        "api.account_summary.sql": "CREATE OR REPLACE VIEW api.account_summary AS SELECT 1 AS one;\n",
        "account_summary.sql": "CREATE OR REPLACE VIEW api.account_summary AS SELECT 1 AS one;\n",
        "api.f.sql.j2": "CREATE OR REPLACE FUNCTION api.g() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n",
        "bank.two.sql": "CREATE OR REPLACE VIEW bank.two AS SELECT 1 AS one;\n"
        "CREATE OR REPLACE VIEW bank.three AS SELECT 1 AS one;\n",
        "bank.none.sql": "SELECT 1;\n",
    }
    for name, text in files.items():
        (tmp_path / "views" / name).write_text(text)
    assert misnamed(sql_files(tmp_path / "views")) == [
        "views/account_summary.sql defines api.account_summary",
        "views/api.f.sql.j2 defines api.g",
        "views/bank.none.sql defines nothing",
        "views/bank.two.sql defines bank.two, bank.three",
    ]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_function_states_its_volatility(path) -> None:
    text = path.read_text()
    functions = len(re.findall(r"^CREATE OR REPLACE FUNCTION", text, re.MULTILINE))
    stated = len(re.findall(r"^(IMMUTABLE|STABLE|VOLATILE)$", text, re.MULTILINE))
    assert functions == stated == 1


def test_every_function_has_a_comment_and_definers_pin_their_path(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc') IS NOT NULL, p.prosecdef,
               coalesce(array_to_string(p.proconfig, ','), '') LIKE '%search_path=%'
        FROM pg_proc AS p
        WHERE p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace, 'monitor'::regnamespace)
        """
    ).fetchall()
    assert len(rows) == len(FILES)
    assert [r[0] for r in rows if not r[1]] == []
    assert [r[0] for r in rows if r[2] and not r[3]] == []


def test_every_function_and_view_in_the_catalog_has_its_file(conn: psycopg.Connection) -> None:
    """And no file is left over: the files are exactly the managed schemas' functions and views."""
    functions = conn.execute(
        """
        SELECT format('%s.%s', p.pronamespace::regnamespace, p.proname) FROM pg_proc AS p
        WHERE p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace, 'monitor'::regnamespace)
        ORDER BY 1
        """
    ).fetchall()
    views = conn.execute(
        "SELECT format('%s.%s', schemaname, viewname) FROM pg_views WHERE schemaname IN ('api', 'monitor') ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in functions] == [stem(p) for p in FILES]
    assert [r[0] for r in views] == [stem(p) for p in VIEW_FILES]

