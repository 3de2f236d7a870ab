"""The key design of ARCHITECTURE.md, read back from the catalog so later migrations keep it."""

from __future__ import annotations

import psycopg

USER_OWNED_SQL = """
    SELECT c.oid::regclass::text
    FROM pg_class AS c
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
    WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY 1
"""


def rows(conn: psycopg.Connection, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


def test_the_user_owned_tables(conn: psycopg.Connection) -> None:
    assert [r[0] for r in rows(conn, USER_OWNED_SQL)] == [
        "bank.account_balances", "bank.accounts", "bank.alerts", "bank.bills", "bank.budgets", "bank.category_rules",
        "bank.daily_flows", "bank.import_batches", "bank.monthly_totals", "bank.recurring_candidates",
        "bank.reward_entries", "bank.rewards", "bank.statements", "bank.tags", "bank.transaction_external_ids",
        "bank.transaction_splits", "bank.transaction_tags", "bank.transactions",
    ]


def test_user_id_leads_every_primary_and_unique_key_of_a_user_owned_table(conn: psycopg.Connection) -> None:
    offenders = rows(conn, f"""
        SELECT con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint AS con
        WHERE con.conrelid::regclass::text IN ({USER_OWNED_SQL})
          AND con.contype IN ('p', 'u')
          AND con.conkey[1] <> (SELECT attnum FROM pg_attribute WHERE attrelid = con.conrelid AND attname = 'user_id')
    """)
    assert offenders == []


def test_foreign_keys_between_user_owned_tables_go_through_user_id(conn: psycopg.Connection) -> None:
    offenders = rows(conn, f"""
        SELECT con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint AS con
        WHERE con.contype = 'f'
          AND con.conrelid::regclass::text IN ({USER_OWNED_SQL})
          AND con.confrelid::regclass::text IN ({USER_OWNED_SQL})
          AND NOT EXISTS (
              SELECT FROM pg_attribute AS a
              WHERE a.attrelid = con.conrelid AND a.attname = 'user_id' AND a.attnum = ANY (con.conkey)
          )
    """)
    assert offenders == []


def test_every_table_and_partitioned_table_has_a_comment(conn: psycopg.Connection) -> None:
    missing = rows(conn, """
        SELECT c.oid::regclass::text FROM pg_class AS c
        WHERE c.relnamespace IN ('bank'::regnamespace, 'api'::regnamespace)
          AND c.relkind IN ('r', 'p', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
    """)
    assert missing == []


def test_keys_are_bigint_identities(conn: psycopg.Connection) -> None:
    identities = rows(conn, """
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'bank' AND is_identity = 'YES' ORDER BY 1
    """)
    assert {r[2] for r in identities} == {"bigint"}
    # Every table but the two keyed by ISO codes, monthly_totals (keyed by user, month and category),
    # transaction_external_ids (by user, account and the bank's id), transaction_tags (by the
    # transaction's key and the tag), transaction_splits (by the transaction's key and the line
    # number), daily_flows (by user, account, day and currency) and
    # account_balances (by user, account and day).
    assert len(identities) == 15


def test_no_timestamp_without_time_zone_and_no_float_or_money_type(conn: psycopg.Connection) -> None:
    offenders = rows(conn, """
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'bank'
          AND data_type IN ('timestamp without time zone', 'real', 'double precision', 'money')
    """)
    assert offenders == []


def test_money_columns_are_unconstrained_numeric(conn: psycopg.Connection) -> None:
    # numeric(15,2) would round 1.005 to 1.01 silently; exactness is checked against the currency.
    offenders = rows(conn, """
        SELECT table_name, column_name, numeric_precision, numeric_scale FROM information_schema.columns
        WHERE table_schema = 'bank' AND data_type = 'numeric' AND numeric_scale IS NOT NULL
    """)
    assert offenders == []


def test_every_table_with_updated_at_keeps_it_by_trigger(conn: psycopg.Connection) -> None:
    missing = rows(conn, """
        SELECT c.oid::regclass::text
        FROM pg_class AS c
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname IN ('updated_at', 'last_updated')
        WHERE c.relnamespace = 'bank'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND NOT EXISTS (
              SELECT FROM pg_trigger AS t
              WHERE t.tgrelid = c.oid AND t.tgname = '_100_set_updated_at' AND NOT t.tgisinternal
          )
    """)
    assert missing == []


def test_partitions_live_apart_and_every_partition_is_of_transactions(conn: psycopg.Connection) -> None:
    partitions = rows(conn, """
        SELECT c.oid::regclass::text, inh.inhparent::regclass::text
        FROM pg_class AS c JOIN pg_inherits AS inh ON inh.inhrelid = c.oid
        WHERE c.relkind = 'r' ORDER BY 1
    """)
    assert partitions[0] == ("bank_partitions.transactions_2025_01", "bank.transactions")
    assert {p[1] for p in partitions} == {"bank.transactions"}
    assert all(p[0].startswith("bank_partitions.") for p in partitions)
    default = rows(conn, "SELECT partdefid FROM pg_partitioned_table WHERE partrelid = 'bank.transactions'::regclass")
    assert default == [(0,)]  # no default partition
