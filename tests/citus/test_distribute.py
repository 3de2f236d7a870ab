"""bankdb distribute: the tables distributed as scripts/citus/distribute.sql says, on an empty
database and on one holding data, idempotently, with policies, triggers, foreign keys and every
derived total as they were."""

from __future__ import annotations

import re

import psycopg

from bankdb import migrator, seed

from ..conftest import PROJECT

SCRIPT = PROJECT.root.joinpath(*migrator.DISTRIBUTE_SCRIPT).read_text()
REFERENCE = re.findall(r"create_reference_table\('([\w.]+)'\)", SCRIPT)
DISTRIBUTED = re.findall(r"create_distributed_table\('([\w.]+)', 'user_id'", SCRIPT)
SET_NULL_KEY = "transactions_user_id_category_rule_id_fkey"

# The coordinator holds a placement of each reference table (shards named <table>_<shard id>): not counted.
CATALOG = {
    "policies": "SELECT tablename, policyname, roles::text, qual, with_check FROM pg_policies "
                "WHERE schemaname = 'bank' AND tablename !~ '_[0-9]+$' "
                "ORDER BY 1, 2",
    "triggers": "SELECT tgrelid::regclass::text, tgname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
                "WHERE NOT tgisinternal AND c.relnamespace = 'bank'::regnamespace AND NOT relation_is_a_known_shard(c.oid) "
                "ORDER BY 1, 2",
    "foreign keys": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND connamespace = 'bank'::regnamespace AND conparentid = 0 "
                    "AND NOT relation_is_a_known_shard(conrelid) ORDER BY 1, 2",
}
DERIVED = {
    "monthly_totals": "SELECT user_id, month, category, spending, income, txn_count FROM bank.monthly_totals ORDER BY 1, 2, 3",
    "budgets": "SELECT user_id, id, spent_amount FROM bank.budgets ORDER BY 1, 2",
    "rewards": "SELECT user_id, id, points_balance FROM bank.rewards ORDER BY 1, 2",
    "transactions": "SELECT count(*), sum(amount) FROM bank.transactions",
}


def snapshot(conninfo: str, queries: dict[str, str]) -> dict[str, list[tuple]]:
    with psycopg.connect(conninfo) as conn:
        return {name: conn.execute(query).fetchall() for name, query in queries.items()}


def placement(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        return dict(conn.execute(
            "SELECT logicalrelid::regclass::text, partmethod::text FROM pg_dist_partition "
            "WHERE logicalrelid::regclass::text LIKE 'bank.%'"
        ).fetchall())


def test_distribute_on_an_empty_database_keeps_policies_triggers_and_keys_and_runs_again_unchanged(
    citus_db: str
) -> None:
    migrator.migrate(PROJECT, citus_db, out=lambda _: None)
    before = snapshot(citus_db, CATALOG)
    lines: list[str] = []
    assert migrator.distribute(PROJECT, citus_db, out=lines.append) == len(REFERENCE) + len(DISTRIBUTED)
    assert lines[-1] == "Derived totals verified: bank.verify_totals() is empty."
    assert placement(citus_db) == {**dict.fromkeys(REFERENCE, "n"), **dict.fromkeys(DISTRIBUTED, "h")}

    after = snapshot(citus_db, CATALOG)
    assert after["triggers"] == before["triggers"] and len(after["triggers"]) > 20
    # Policies without the subquery Citus refuses: the same tables, roles and rules otherwise.
    assert [(t, p, r) for t, p, r, _, _ in after["policies"]] == [(t, p, r) for t, p, r, _, _ in before["policies"]]
    assert [(q, c) for *_, q, c in after["policies"]] == [
        (q and q.replace("( SELECT api.current_user_id() AS current_user_id)", "api.current_user_id()"),
         c and c.replace("( SELECT api.current_user_id() AS current_user_id)", "api.current_user_id()"))
        for *_, q, c in before["policies"]
    ]
    changed = [fk for fk in before["foreign keys"] if fk[1] == SET_NULL_KEY]
    assert changed == [("bank.transactions", SET_NULL_KEY, "FOREIGN KEY (user_id, category_rule_id) REFERENCES "
                        "bank.category_rules(user_id, id) ON DELETE SET NULL (category_rule_id)")]
    assert after["foreign keys"] == [
        (t, n, d.removesuffix(" ON DELETE SET NULL (category_rule_id)") if n == SET_NULL_KEY else d)
        for t, n, d in before["foreign keys"]
    ]

    lines = []
    assert migrator.distribute(PROJECT, citus_db, out=lines.append) == 0
    assert snapshot(citus_db, CATALOG) == after
    assert migrator.status(PROJECT, citus_db).exit_code == 0
    lines = []
    migrator.migrate(PROJECT, citus_db, out=lines.append)
    assert lines == ["Nothing to do: the database is up to date."]


def test_distribute_on_a_database_holding_data_keeps_every_row_and_total(citus_db: str) -> None:
    migrator.migrate(PROJECT, citus_db, out=lambda _: None)
    seed.seed(PROJECT, citus_db, demo=True, out=lambda _: None)
    before = snapshot(citus_db, DERIVED)
    assert before["transactions"][0][0] > 0 and len(before["monthly_totals"]) > 0
    migrator.distribute(PROJECT, citus_db, out=lambda _: None)
    assert snapshot(citus_db, DERIVED) == before
    with psycopg.connect(citus_db) as conn:
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
