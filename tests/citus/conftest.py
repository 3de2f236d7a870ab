"""The Citus suite: a real coordinator and workers, named by BANKDB_TEST_CITUS_URL.

The URL is a superuser's on the coordinator's maintenance database (`.ci/run` starts the local
three-node cluster of ../shared/citus/cluster.sh and sets it). Without it every test here is skipped
with the reason. Each test session gets a database of its own on every node, with the citus
extension and the nodes registered in it (Citus 13 does not propagate CREATE DATABASE), dropped at
the end. The bank roles are cluster-wide, as on a single server: a later run finds them made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..conftest import new_db_name

URL_VARIABLE = "BANKDB_TEST_CITUS_URL"


@dataclass(frozen=True)
class Cluster:
    params: dict  # libpq keywords of the coordinator's maintenance database
    workers: tuple[tuple[str, int], ...]  # (host, port) of each worker, as pg_dist_node names them

    def conninfo(self, dbname: str, node: tuple[str, int] | None = None) -> str:
        host, port = node or (self.params.get("host", "127.0.0.1"), int(self.params.get("port", 5432)))
        return make_conninfo(**{**self.params, "host": host, "port": port, "dbname": dbname})

    @property
    def nodes(self) -> list[tuple[str, int]]:
        return [(self.params.get("host", "127.0.0.1"), int(self.params.get("port", 5432))), *self.workers]


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        pytest.skip(
            f"{URL_VARIABLE} is not set: the Citus tests need a running cluster "
            "(.ci/run starts the local one from ../shared/citus and sets it)"
        )
    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    params.setdefault("dbname", "postgres")
    with psycopg.connect(make_conninfo(**params), autocommit=True) as conn:
        workers = conn.execute(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeport"
        ).fetchall()
    if not workers:
        pytest.fail(f"{URL_VARIABLE} names a coordinator without workers in pg_dist_node (run cluster.sh start)")
    return Cluster(params, tuple(workers))


def create_database(cluster: Cluster, name: str) -> None:
    """A database on every node with citus, and the nodes registered in it, as cluster.sh createdb does."""
    for node in cluster.nodes:
        with psycopg.connect(cluster.conninfo(cluster.params["dbname"], node), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(cluster.conninfo(name, node), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION citus")
    with psycopg.connect(cluster.conninfo(name), autocommit=True) as conn:
        # 8 shards per distributed table (4 on each worker) rather than Citus's default 32: distributing
        # and each month's partition are a quarter of the work, and a query for every user still spans
        # shards on both workers.
        conn.execute(f'ALTER DATABASE "{name}" SET citus.shard_count = 8')
        host, port = cluster.nodes[0]
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", (host, port))
        for host, port in cluster.workers:
            conn.execute("SELECT citus_add_node(%s, %s)", (host, port))


def drop_database(cluster: Cluster, name: str) -> None:
    for node in cluster.nodes:
        with psycopg.connect(cluster.conninfo(cluster.params["dbname"], node), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def citus_db(cluster: Cluster) -> Iterator[str]:
    """The coordinator conninfo of a new, empty database on the cluster (nothing migrated), dropped after."""
    name = new_db_name("bankdb_citus")
    create_database(cluster, name)
    try:
        yield cluster.conninfo(name)
    finally:
        drop_database(cluster, name)


def on_nodes(cluster: Cluster, conninfo: str, query: str) -> list[list[tuple]]:
    """The rows a query returns on each node (coordinator first) of the database conninfo names."""
    dbname = conninfo_to_dict(conninfo)["dbname"]
    results = []
    for node in cluster.nodes:
        with psycopg.connect(cluster.conninfo(dbname, node)) as conn:
            results.append(conn.execute(query).fetchall())
    return results
