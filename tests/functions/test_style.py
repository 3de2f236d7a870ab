"""STYLE.md's rules for functions, checked on the files and in the catalog."""

from __future__ import annotations

import re

import psycopg
import pytest

from ..conftest import PROJECT

# One function per file, templates (.sql.j2) included: their text already shows the one function.
FILES = sorted(p for p in (PROJECT.root / "functions").iterdir() if p.name.endswith((".sql", ".sql.j2")))


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
