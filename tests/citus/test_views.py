"""Every api view answers on the distributed data exactly as on one server loaded with the same data
(issue 14, points 3 and 5): the demo set with accounts in other currencies (every way a rate is found,
and none), a few hundred generated users, and an admin's action. As bank_app acting for a user, and
as bank_admin, who reads every user's rows (docs/security.md). Times the data stamps with now()
differ between the two loads and are left out."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from ..conftest import Server, database
from . import data
from .conftest import Cluster

ADMIN_VIEWS = ("admin_audit_trail", "admin_user_overview")

# Ada becomes an admin and verifies Chiyo's KYC (an entry in the audit trail); one of Bruno's
# accounts is disabled.
ADMIN_ACTIONS = """
UPDATE bank.users SET is_admin = TRUE WHERE email = 'ada@demo.bankdb.test';
SET ROLE bank_admin;
SELECT bank.admin_verify_kyc(
    (SELECT id FROM bank.users WHERE email = 'ada@demo.bankdb.test'),
    (SELECT id FROM bank.users WHERE email = 'chiyo@demo.bankdb.test')
);
RESET ROLE;
UPDATE bank.accounts SET disabled_at = now() WHERE masked_account = '****4002';
"""


def load(conninfo: str) -> None:
    data.load(conninfo)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(ADMIN_ACTIONS)


@pytest.fixture(scope="module")
def single(server: Server) -> Iterator[str]:
    for conninfo in database(server, None):
        load(conninfo)
        yield conninfo


@pytest.fixture(scope="module")
def distributed(cluster: Cluster) -> Iterator[str]:
    with data.distributed_database(cluster, load) as conninfo:
        yield conninfo


def select_all(conn: psycopg.Connection, view: str, where: sql.Composable = sql.SQL("")) -> sql.Composed:
    """Every column of the view but the timestamps, in the order of all of them."""
    columns = [c for (c,) in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND atttypid <> 'timestamptz'::regtype ORDER BY attnum",
        (f"api.{view}",),
    ).fetchall()]
    return sql.SQL("SELECT {} FROM {} {} ORDER BY {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier("api", view), where,
        sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(columns))),
    )


def as_user(conninfo: str, views: list[str], users: list[int]) -> dict[tuple[str, int], list[tuple]]:
    """Each view's rows for each user, as bank_app acting for the user."""
    rows = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        queries = {view: select_all(conn, view) for view in views}
        conn.execute("SET ROLE bank_app")
        for view in views:
            for user in users:
                with conn.transaction():
                    conn.execute("SELECT api.set_user(%s)", (user,))
                    rows[view, user] = conn.execute(queries[view]).fetchall()
    return rows


def as_admin(conninfo: str, views: list[str], where: sql.Composable = sql.SQL("")) -> dict[str, list[tuple]]:
    """Each view's rows as bank_admin, every user's."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        queries = {view: select_all(conn, view, where) for view in views}
        conn.execute("SET ROLE bank_admin")
        return {view: conn.execute(query).fetchall() for view, query in queries.items()}


@pytest.fixture(scope="module")
def views(single: str) -> list[str]:
    """The dashboard views: every api view but the admins'."""
    with psycopg.connect(single) as conn:
        return [v for (v,) in conn.execute(
            "SELECT viewname FROM pg_views WHERE schemaname = 'api' AND viewname <> ALL(%s) ORDER BY 1",
            (list(ADMIN_VIEWS),),
        ).fetchall()]


def test_every_dashboard_view_answers_the_demo_users_and_foreign_currency_holders_as_on_one_server(
    single: str, distributed: str, views: list[str]
) -> None:
    with psycopg.connect(single) as conn:
        demo = [u for (u,) in conn.execute(
            "SELECT id FROM bank.users WHERE email LIKE '%@demo.bankdb.test' ORDER BY id"
        ).fetchall()]
        # Generated users with an account in another currency than their own (US users' EUR investments).
        abroad = [u for (u,) in conn.execute(
            "SELECT DISTINCT a.user_id FROM bank.accounts AS a JOIN bank.users AS u ON u.id = a.user_id"
            " WHERE a.currency <> u.base_currency AND u.email LIKE '%@gen.bankdb.test' ORDER BY 1 LIMIT 5"
        ).fetchall()]
    assert len(demo) == 3 and len(abroad) == 5 and len(views) == 17
    expected = as_user(single, views, demo + abroad)
    assert as_user(distributed, views, demo + abroad) == expected
    assert sum(map(len, expected.values())) > 100  # the data reaches the views: the comparison compares something


def test_balances_in_the_base_currency_cover_every_way_to_a_rate(single: str, distributed: str) -> None:
    query = sql.SQL(
        "SELECT u.email, s.currency, s.base_currency, s.balance_in_base_currency"
        " FROM api.account_summary AS s JOIN bank.users AS u ON u.id = s.user_id"
        " WHERE s.masked_account LIKE '****400_' ORDER BY s.masked_account"
    )
    expected = [
        ("ada@demo.bankdb.test", "EUR", "USD"),  # the direct pair EUR-USD
        ("bruno@demo.bankdb.test", "USD", "EUR"),  # the inverse of EUR-USD
        ("bruno@demo.bankdb.test", "GBP", "EUR"),  # GBP-USD, then the inverse of EUR-USD
        ("chiyo@demo.bankdb.test", "CHF", "JPY"),  # no rate: NULL
    ]
    for conninfo in (single, distributed):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SET ROLE bank_admin")
            rows = conn.execute(query).fetchall()
            rate = {pair: conn.execute(
                "SELECT round(%s::numeric * bank.find_exchange_rate(%s, %s, current_date), 2)", (balance, *pair)
            ).fetchone()[0] for pair, balance in ((("EUR", "USD"), 1000), (("USD", "EUR"), "250.55"),
                                                  (("GBP", "EUR"), 500))}
        assert [r[:3] for r in rows] == expected
        assert [r[3] for r in rows] == [rate["EUR", "USD"], rate["USD", "EUR"], rate["GBP", "EUR"], None]
    with psycopg.connect(single) as conn, psycopg.connect(distributed) as citus:
        net_worth = "SELECT * FROM api.net_worth ORDER BY user_id"
        assert citus.execute(net_worth).fetchall() == conn.execute(net_worth).fetchall()


def test_every_dashboard_view_answers_an_admin_for_every_user_as_on_one_server(
    single: str, distributed: str, views: list[str]
) -> None:
    expected = as_admin(single, views)
    assert as_admin(distributed, views) == expected
    users = {row[0] for row in expected["net_worth"]}
    assert len(users) == 3 + data.GENERATED_USERS


def test_the_admin_views_answer_an_admin_as_on_one_server(single: str, distributed: str) -> None:
    expected = as_admin(single, list(ADMIN_VIEWS))
    assert as_admin(distributed, list(ADMIN_VIEWS)) == expected
    assert len(expected["admin_user_overview"]) == 3 + data.GENERATED_USERS
    assert [row[3:] for row in expected["admin_audit_trail"]] == [
        ("verified_user", "User", 3, {"after": {"kyc_status": "verified"}, "before": {"kyc_status": "unverified"}})
    ]
    bruno = [row for row in expected["admin_user_overview"] if row[2] == "bruno@demo.bankdb.test"]
    assert [row[5:] for row in bruno] == [(4, 1, bruno[0][7])] and bruno[0][7] is not None
    # One user's row, as an admin console asks for it: on Citus the query goes to that user's shard.
    one = sql.SQL("WHERE user_id = 2")
    assert as_admin(distributed, ["admin_user_overview"], one) == as_admin(single, ["admin_user_overview"], one)
