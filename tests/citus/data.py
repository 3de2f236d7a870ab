"""The data the Citus read and operations tests load the same way on one server and on the cluster.

The demo set, a few hundred generated users over a few months (their US users' investment accounts
are in EUR, and the generator writes daily rates of EUR, GBP and JPY in USD), and accounts in other
currencies for the demo users, one for each way bank.find_exchange_rate finds a rate: Ada (USD) in
EUR, the direct pair; Bruno (EUR) in USD, the inverse of EUR-USD; Bruno in GBP, through USD; Chiyo
(JPY) in CHF, no rate at all. Loaded before `bankdb distribute`, which moves data that is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from bankdb import generate, migrator, seed

from ..conftest import PROJECT, new_db_name
from .conftest import Cluster, create_database, drop_database

GENERATED_USERS = 300
GENERATED_MONTHS = 3  # the demo's partitions cover them: distributing moves no more months than the demo has

FOREIGN_ACCOUNTS = """
INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)
SELECT u.id, 'Abroad Bank', 'savings', a.masked, a.currency, a.balance
FROM (
    VALUES
    ('ada@demo.bankdb.test', '****4001', 'EUR', 1000.00),
    ('bruno@demo.bankdb.test', '****4002', 'USD', 250.55),
    ('bruno@demo.bankdb.test', '****4003', 'GBP', 500.00),
    ('chiyo@demo.bankdb.test', '****4004', 'CHF', 50.00)
) AS a (email, masked, currency, balance)
JOIN bank.users AS u ON u.email = a.email
"""


def load(conninfo: str, users: int = GENERATED_USERS, months: int = GENERATED_MONTHS) -> None:
    """Migrate, then the demo set, `users` generated users and the demo users' foreign accounts."""
    migrator.migrate(PROJECT, conninfo, out=lambda _: None)
    seed.seed(PROJECT, conninfo, demo=True, out=lambda _: None)
    if users:
        generate.generate(conninfo, users, months=months, batch=users, out=lambda _: None,
                          progress=lambda *_: None, project=PROJECT)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(FOREIGN_ACCOUNTS)


def distribute(conninfo: str) -> None:
    """`bankdb distribute` (with the test databases' 8 shards per table: conftest.create_database)."""
    migrator.distribute(PROJECT, conninfo, out=lambda _: None)


def load_demo(conninfo: str) -> None:
    """Migrate, then the demo set only."""
    migrator.migrate(PROJECT, conninfo, out=lambda _: None)
    seed.seed(PROJECT, conninfo, demo=True, out=lambda _: None)


@contextmanager
def distributed_database(cluster: Cluster, fill: Callable[[str], None]) -> Iterator[str]:
    """The coordinator conninfo of a new database on the cluster, filled by `fill` as one server
    would be, then distributed; dropped on every node after."""
    name = new_db_name("bankdb_citus")
    create_database(cluster, name)
    try:
        conninfo = cluster.conninfo(name)
        fill(conninfo)
        distribute(conninfo)
        yield conninfo
    finally:
        drop_database(cluster, name)
