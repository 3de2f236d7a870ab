"""Every function that takes text treats hostile text as data or rejects it cleanly.

The functions come from the catalog (bank and api, trigger functions aside), so one added later is
covered. Each text argument in turn gets each hostile value while the others are plausible.
"""

from __future__ import annotations

import psycopg
import pytest

HOSTILE = [
    "'; DROP TABLE bank.users; --",
    "Robert'); DELETE FROM bank.transactions; --",
    "%I %L %s %% $1 $$ $fn$ \\",
    "\" OR 1=1 --",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Ω ü \u202e",
    "x" * 100_000,
]
PLAUSIBLE = {"bigint": 1, "integer": 3, "smallint": 2, "numeric": "1.00", "date": "2025-03-05", "bank.kyc_status": "verified",
             "boolean": False, "jsonb": "[]"}
# What a clean rejection looks like: bad data (22), a constraint (23), a business rule (BK), or a
# cast the value failed (22P02). Never a syntax error, an unknown object or an internal error.
CLEAN = ("22", "23", "BK")


def text_functions(conn: psycopg.Connection) -> list[tuple[str, list[str]]]:
    return [
        (name, [t.strip() for t in args.split(",")])
        for name, args in conn.execute(
            """
            SELECT p.oid::regproc::text, pg_get_function_identity_arguments(p.oid)
            FROM pg_proc AS p
            WHERE p.pronamespace IN ('bank'::regnamespace, 'api'::regnamespace)
              AND p.prorettype <> 'trigger'::regtype
              AND 'text'::regtype = ANY (p.proargtypes::regtype[])
            ORDER BY 1
            """
        ).fetchall()
    ]


def arg_type(declaration: str) -> str:
    return declaration.split()[-1]


def test_hostile_text_is_data_or_a_clean_rejection(conn: psycopg.Connection) -> None:
    admin = conn.execute(
        "INSERT INTO bank.users (name, email, password, is_admin) VALUES ('Admin', 'admin@example.com', %s, TRUE)"
        " RETURNING id", ("$2b$12$" + "A" * 53,),
    ).fetchone()[0]
    PLAUSIBLE["bigint"] = admin
    before = conn.execute("SELECT count(*) FROM bank.users").fetchone()[0]
    functions = text_functions(conn)
    assert {name for name, _ in functions} >= {
        "api.register_user", "bank.exchange_rate", "bank.convert_amount", "bank.admin_disable_account",
    }
    outcomes = []
    for name, declarations in functions:
        types = [arg_type(d) for d in declarations]
        for position, kind in enumerate(types):
            if kind != "text":
                continue
            for hostile in HOSTILE:
                args = [hostile if i == position else ("USD" if t == "text" else PLAUSIBLE[t]) for i, t in enumerate(types)]
                casts = ", ".join(f"%s::{t}" for t in types)
                try:
                    with conn.transaction(force_rollback=True):
                        conn.execute(f"SELECT {name}({casts})", args)
                    outcomes.append("data")
                except psycopg.Error as exc:
                    assert exc.sqlstate and exc.sqlstate.startswith(CLEAN), (name, position, hostile[:40], exc)
                    outcomes.append(exc.sqlstate)
    assert "data" in outcomes and any(o.startswith("23") for o in outcomes)
    assert conn.execute("SELECT count(*) FROM bank.users").fetchone()[0] == before
    assert conn.execute("SELECT to_regclass('bank.transactions') IS NOT NULL").fetchone()[0]


def test_a_nul_byte_is_rejected_before_it_reaches_the_server(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.DataError, match="NUL"), conn.transaction():
        conn.execute("SELECT api.register_user(%s, 'nul@example.com', %s)", ("Eve\x00", "$2b$12$" + "N" * 53))


def test_a_hostile_name_is_stored_exactly(conn: psycopg.Connection) -> None:
    name = "Robert'); DROP TABLE bank.users; --"
    user_id = conn.execute(
        "SELECT api.register_user(%s, 'bobby@example.com', %s)", (name, "$2b$12$" + "R" * 53)
    ).fetchone()[0]
    assert conn.execute("SELECT name FROM bank.users WHERE id = %s", (user_id,)).fetchone()[0] == name
