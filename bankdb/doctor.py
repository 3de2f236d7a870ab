"""A health check: each check returns the problems it finds, in words a DBA can act on.

On a distributed Citus database the coordinator keeps no statistics of the rows: a distributed
table's rows, and so its index scans and dead rows, are in its shards on the workers (and a
reference table's on every node). There the statistics checks read every node's and add up each
table's and index's shards under its own name; the coordinator's empty shell tables do not count.
A Citus database also gets a check that every node reaches every other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from bankdb import db


@dataclass(frozen=True)
class Limits:
    months_ahead: int = 2  # partitions that must exist after the current month
    unused_index_min_bytes: int = 8 << 20  # smaller unused indexes are not worth a report
    bloat_percent: float = 20.0  # dead rows as a share of all rows
    bloat_min_dead_rows: int = 1000


# The roles V005 gives CONNECT on the database; bank_owner never logs in.
CONNECTING_ROLES = ("bank_migrator", "bank_app", "bank_admin", "bank_readonly", "bank_backup")


def roles_can_connect(conn: psycopg.Connection, limits: Limits) -> list[str]:
    """A bank role without CONNECT here refuses every login of its members, while migrate has nothing to do."""
    return [
        f"{role} has no CONNECT on database {database}: every login in it is refused; "
        f"run GRANT CONNECT ON DATABASE {database} TO {role}" if exists
        else f"role {role} does not exist: run bankdb migrate"
        for role, exists, database in conn.execute(
            """
            SELECT r.name, to_regrole(r.name) IS NOT NULL, quote_ident(current_database())
            FROM unnest(%s::text[]) WITH ORDINALITY AS r (name, n)
            WHERE CASE WHEN to_regrole(r.name) IS NULL THEN TRUE
                  ELSE NOT has_database_privilege(to_regrole(r.name), current_database(), 'CONNECT') END
            ORDER BY r.n
            """,
            (list(CONNECTING_ROLES),),
        ).fetchall()
    ]


def orphaned_rows(conn: psycopg.Connection, limits: Limits) -> list[str]:
    """Rows whose foreign key points nowhere (possible after a load with triggers off)."""
    problems = []
    keys = conn.execute(
        """
        SELECT con.conname, con.conrelid::regclass::text, con.confrelid::regclass::text,
               array_agg(a.attname ORDER BY k.n), array_agg(f.attname ORDER BY k.n)
        FROM pg_catalog.pg_constraint AS con
        CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k (child, parent, n)
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.child
        JOIN pg_catalog.pg_attribute AS f ON f.attrelid = con.confrelid AND f.attnum = k.parent
        JOIN pg_catalog.pg_class AS c ON c.oid = con.conrelid
        WHERE con.contype = 'f' AND c.relnamespace = 'bank'::regnamespace AND NOT c.relispartition
        GROUP BY 1, 2, 3
        ORDER BY 1
        """
    ).fetchall()
    for name, child, parent, child_cols, parent_cols in keys:
        query = sql.SQL(
            "SELECT count(*) FROM {child} AS c WHERE {present} AND NOT EXISTS (SELECT FROM {parent} AS p WHERE {match})"
        ).format(
            child=sql.SQL(child),
            parent=sql.SQL(parent),
            present=sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in child_cols),
            match=sql.SQL(" AND ").join(
                sql.SQL("p.{} = c.{}").format(sql.Identifier(p), sql.Identifier(c))
                for c, p in zip(child_cols, parent_cols)
            ),
        )
        orphans = conn.execute(query).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} row(s) of {child} point nowhere ({name} -> {parent})")
    return problems


def unvalidated_constraints(conn: psycopg.Connection, limits: Limits) -> list[str]:
    return [
        f"{table}: constraint {name} is NOT VALID: run ALTER TABLE {table} VALIDATE CONSTRAINT {name}"
        for name, table in conn.execute(
            """
            SELECT con.conname, con.conrelid::regclass::text FROM pg_catalog.pg_constraint AS con
            WHERE NOT con.convalidated
              AND con.connamespace IN ('bank'::regnamespace, 'bank_partitions'::regnamespace)
            ORDER BY 2, 1
            """
        ).fetchall()
    ]


def totals_drift(conn: psycopg.Connection, limits: Limits) -> list[str]:
    rows = conn.execute("SELECT subject, user_id, detail, expected, actual FROM bank.verify_totals()").fetchall()
    problems = [f"{s} of user {u} ({d}): {a}, but the raw rows say {e}" for s, u, d, e, a in rows[:20]]
    if rows:
        problems.append(f"{len(rows)} derived total(s) drifted: repair with SELECT bank.rebuild_totals()")
    return problems


def partitions_ahead(conn: psycopg.Connection, limits: Limits) -> list[str]:
    missing = [r[0] for r in conn.execute(
        """
        SELECT to_char(m, 'YYYY-MM')
        FROM generate_series(date_trunc('month', current_date), date_trunc('month', current_date)
                             + make_interval(months => %s), interval '1 month') AS m
        WHERE to_regclass(format('bank_partitions.transactions_%%s', to_char(m, 'YYYY_MM'))) IS NULL
        """,
        (limits.months_ahead,),
    ).fetchall()]
    return [f"no partition of bank.transactions for {', '.join(missing)}: run bankdb maintain"] if missing else []


def default_partition(conn: psycopg.Connection, limits: Limits) -> list[str]:
    default = conn.execute(
        "SELECT nullif(partdefid, 0)::regclass::text FROM pg_catalog.pg_partitioned_table"
        " WHERE partrelid = 'bank.transactions'::regclass"
    ).fetchone()[0]
    if default is None:
        return []
    rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(default))).fetchone()[0]
    return [f"{default} is a default partition holding {rows} row(s): it can block new months; "
            "create the monthly partitions and move its rows into them"]


def distributed(conn: psycopg.Connection) -> bool:
    """Whether bank's tables are Citus tables here (the coordinator of a distributed database)."""
    return db.is_citus(conn) and conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = 'bank.users'::regclass)"
    ).fetchone()[0]


SHARD_SUFFIX = re.compile(r"^(?P<name>.+)_(?P<shard>\d+)$")


def on_every_node(conn: psycopg.Connection, view: str) -> list[dict]:
    """The rows of a monitor view on every node of the cluster, each shard's under the name of its
    table (and index): `transactions_2025_03_102133` is `transactions_2025_03`. The coordinator's
    shell tables of Citus tables are left out: their rows are the shards'."""
    shards = {str(shard): name for shard, name in conn.execute(
        "SELECT s.shardid, c.relname FROM pg_catalog.pg_dist_shard AS s"
        " JOIN pg_catalog.pg_class AS c ON c.oid = s.logicalrelid"
    ).fetchall()}
    shells = {(schema, name) for schema, name in conn.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_dist_partition AS p"
        " JOIN pg_catalog.pg_class AS c ON c.oid = p.logicalrelid"
        " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    ).fetchall()}
    rows = []
    command = f"SELECT coalesce(json_agg(v), '[]') FROM {view} AS v"
    for node, ok, result in conn.execute(
        "SELECT nodeid, success, result FROM run_command_on_all_nodes(%s)", (command,)
    ).fetchall():
        if not ok:
            raise db.ScriptError(f"doctor: node {node} did not answer for {view}: {result}")
        for row in json.loads(result):
            match = SHARD_SUFFIX.match(row["table_name"])
            if match and shards.get(match["shard"]) == match["name"]:
                row["table_name"] = match["name"]
                if "index_name" in row:
                    row["index_name"] = row["index_name"].removesuffix("_" + match["shard"])
            elif (row["schema_name"], row["table_name"]) in shells:
                continue
            rows.append(row)
    return rows


def unused_indexes(conn: psycopg.Connection, limits: Limits) -> list[str]:
    if distributed(conn):
        indexes: dict[tuple[str, str, str], list[int]] = {}
        unused: dict[tuple[str, str, str], bool] = {}
        for row in on_every_node(conn, "monitor.index_usage"):
            key = (row["schema_name"], row["table_name"], row["index_name"])
            indexes.setdefault(key, []).append(row["bytes"])
            unused[key] = unused.get(key, True) and row["unused"]
        found = sorted(((sum(sizes), key) for key, sizes in indexes.items()
                        if unused[key] and sum(sizes) >= limits.unused_index_min_bytes), reverse=True)
        return [
            f"index {schema}.{index} on {table} ({size}) was never scanned since statistics were reset"
            for (bytes_, (schema, table, index)), (size,) in zip(found, conn.execute(
                "SELECT pg_size_pretty(b) FROM unnest(%s::bigint[]) WITH ORDINALITY AS s (b, n) ORDER BY n",
                ([b for b, _ in found],),
            ).fetchall())
        ]
    return [
        f"index {schema}.{index} on {table} ({size}) was never scanned since statistics were reset"
        for schema, table, index, size in conn.execute(
            """
            SELECT schema_name, table_name, index_name, pg_size_pretty(bytes) FROM monitor.index_usage
            WHERE unused AND bytes >= %s ORDER BY bytes DESC
            """,
            (limits.unused_index_min_bytes,),
        ).fetchall()
    ]


def bloat(conn: psycopg.Connection, limits: Limits) -> list[str]:
    if distributed(conn):
        tables: dict[tuple[str, str], list[int]] = {}
        for row in on_every_node(conn, "monitor.bloat"):
            live_dead = tables.setdefault((row["schema_name"], row["table_name"]), [0, 0])
            live_dead[0] += row["live_rows"]
            live_dead[1] += row["dead_rows"]
        found = sorted(
            ((dead, round(100 * dead / (live + dead), 1), schema, table) for (schema, table), (live, dead)
             in tables.items() if dead >= limits.bloat_min_dead_rows and 100 * dead / (live + dead) > limits.bloat_percent),
            key=lambda f: -f[0],
        )
        return [f"{schema}.{table}: {dead} dead rows, {percent}% of the table: VACUUM it (is autovacuum keeping up?)"
                for dead, percent, schema, table in found]
    return [
        f"{schema}.{table}: {dead} dead rows, {percent}% of the table: VACUUM it (is autovacuum keeping up?)"
        for schema, table, dead, percent in conn.execute(
            """
            SELECT schema_name, table_name, dead_rows, dead_percent FROM monitor.bloat
            WHERE dead_percent > %s AND dead_rows >= %s ORDER BY dead_rows DESC
            """,
            (limits.bloat_percent, limits.bloat_min_dead_rows),
        ).fetchall()
    ]


def citus_nodes(conn: psycopg.Connection, limits: Limits) -> list[str]:
    """On Citus: every node is active and reaches every other (the coordinator asks each node)."""
    inactive = [f"node {host}:{port} is not active: citus_activate_node('{host}', {port}) once it is back"
                for host, port in conn.execute(
                    "SELECT nodename, nodeport FROM pg_catalog.pg_dist_node WHERE NOT isactive ORDER BY 1, 2"
                ).fetchall()]
    return inactive + [
        f"node {from_host}:{from_port} cannot reach node {to_host}:{to_port}"
        for from_host, from_port, to_host, to_port in conn.execute(
            "SELECT from_nodename, from_nodeport, to_nodename, to_nodeport FROM citus_check_cluster_node_health()"
            " WHERE result IS NOT TRUE ORDER BY 1, 2, 3, 4"
        ).fetchall()
    ]


CHECKS: list[tuple[str, Callable[[psycopg.Connection, Limits], list[str]]]] = [
    ("bank roles may connect", roles_can_connect),
    ("orphaned rows", orphaned_rows),
    ("constraints not validated", unvalidated_constraints),
    ("derived totals against raw rows", totals_drift),
    ("partitions ahead", partitions_ahead),
    ("default partition", default_partition),
    ("unused indexes", unused_indexes),
    ("bloat", bloat),
]
# Only on a Citus coordinator.
CITUS_CHECKS: list[tuple[str, Callable[[psycopg.Connection, Limits], list[str]]]] = [
    ("citus nodes reach each other", citus_nodes),
]


def examine(conninfo: str, limits: Limits = Limits()) -> dict[str, list[str]]:
    """Run every check; {check: problems}. No problems anywhere means healthy."""
    with db.connect(conninfo, "bankdb doctor") as conn:
        db.become_owner(conn)  # every user's rows, as the migrations see them
        checks = CHECKS + (CITUS_CHECKS if db.is_citus(conn) else [])
        return {name: check(conn, limits) for name, check in checks}
