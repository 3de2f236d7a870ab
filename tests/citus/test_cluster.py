"""The cluster the Citus suite runs on: the extension on every node of each test database."""

from __future__ import annotations

from .conftest import Cluster, on_nodes


def test_every_node_of_a_test_database_has_citus_and_the_coordinator_knows_the_workers(
    cluster: Cluster, citus_db: str
) -> None:
    versions = on_nodes(cluster, citus_db, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    assert versions == [[("13.2-1",)]] * len(cluster.nodes)
    registered = on_nodes(cluster, citus_db, "SELECT nodeport FROM pg_dist_node ORDER BY nodeport")[0]
    assert [port for (port,) in registered] == [port for _, port in cluster.nodes]
