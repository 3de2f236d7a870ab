"""The schema can be distributed by user_id on Citus as scripts/citus/distribute.sql does it."""

from __future__ import annotations

import re

import psycopg

from ..conftest import REPO

SCRIPT = (REPO / "scripts" / "citus" / "distribute.sql").read_text()
REFERENCE = re.findall(r"create_reference_table\('([\w.]+)'\)", SCRIPT)
DISTRIBUTED = re.findall(r"create_distributed_table\('([\w.]+)', 'user_id'", SCRIPT)


def tables(conn: psycopg.Connection, with_user_id: bool) -> set[str]:
    return {r[0] for r in conn.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attname = 'user_id') = %s
        """,
        (with_user_id,),
    ).fetchall()}


def test_the_script_distributes_every_user_owned_table_and_references_the_rest(conn: psycopg.Connection) -> None:
    assert set(DISTRIBUTED) == tables(conn, True)
    assert set(REFERENCE) == tables(conn, False)


def test_user_id_is_in_every_primary_key_and_unique_constraint_of_a_distributed_table(conn) -> None:
    missing = conn.execute(
        """
        SELECT con.conname FROM pg_constraint AS con
        WHERE con.conrelid = ANY(%s::regclass[]) AND con.contype IN ('p', 'u')
          AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = con.conrelid AND attname = 'user_id') = ANY(con.conkey)
        """,
        (DISTRIBUTED,),
    ).fetchall()
    assert missing == []


def test_foreign_keys_fit_citus(conn: psycopg.Connection) -> None:
    keys = conn.execute(
        """
        SELECT con.conname, con.conrelid::regclass::text, con.confrelid::regclass::text,
               (SELECT attnum FROM pg_attribute WHERE attrelid = con.conrelid AND attname = 'user_id') = ANY(con.conkey)
        FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid
        WHERE con.contype = 'f' AND c.relnamespace = 'bank'::regnamespace AND NOT c.relispartition
        """
    ).fetchall()
    for name, child, parent, through_user_id in keys:
        if child in REFERENCE:  # a reference table may only point at reference tables
            assert parent in REFERENCE, name
        elif parent in DISTRIBUTED:  # between distributed tables only through the distribution column
            assert through_user_id, name
    # The order of the script: every foreign key's target is made before the table pointing at it.
    order = REFERENCE + DISTRIBUTED
    assert all(order.index(parent) < order.index(child) for _, child, parent, _ in keys if child != parent)
