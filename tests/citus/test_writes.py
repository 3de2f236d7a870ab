"""Application writes on a distributed database (issue 14, point 4).

The demo data, distributed on the cluster and loaded on one server. Every step runs the same
statements on both, as bank_app acting for a user through api.set_user (or as bank_owner where one
statement writes for several users): after each, the totals it moves have moved by exactly what it
wrote, on both, and bank.verify_totals() is empty on both. The last test compares every derived
table, and the rows written, between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from ..conftest import Server, database
from .conftest import Cluster
from .data import distributed_database, load_demo

# The demo users: Ada (USD, accounts 1 credit card, 2 savings, 3 checking), Bruno (EUR, 4
# investment, 5 checking), Chiyo (JPY, 6 checking). Ada's and Bruno's rows are on different workers.
ADA, BRUNO, CHIYO = 1, 2, 3
USERS = (ADA, BRUNO, CHIYO)


@pytest.fixture(scope="module")
def single(server: Server) -> Iterator[str]:
    for conninfo in database(server, None):
        load_demo(conninfo)
        yield conninfo


@pytest.fixture(scope="module")
def distributed(cluster: Cluster) -> Iterator[str]:
    with distributed_database(cluster, load_demo) as conninfo:
        yield conninfo


@dataclass(frozen=True)
class Pair:
    """The one-server database and the distributed one, holding the same data."""

    single: str
    distributed: str

    def __iter__(self) -> Iterator[str]:
        return iter((self.single, self.distributed))

    def each(self, work: Callable[[str], object]) -> object:
        """work(conninfo) on both; its result, which must be the same on both."""
        results = [work(conninfo) for conninfo in self]
        assert results[1] == results[0], "the distributed database answered otherwise than one server"
        return results[0]


@pytest.fixture(scope="module")
def dbs(single: str, distributed: str) -> Pair:
    return Pair(single, distributed)


@pytest.fixture(scope="module")
def months(single: str) -> tuple[date, date]:
    """This month and the previous one: the demo data is dated relative to today."""
    with psycopg.connect(single) as conn:
        return conn.execute(
            "SELECT date_trunc('month', current_date)::date, (date_trunc('month', current_date) - interval '1 month')::date"
        ).fetchone()


@contextmanager
def acting(conninfo: str, user: int | None, role: str = "bank_app") -> Iterator[psycopg.Connection]:
    """A transaction as role (bank_app: acting for user through api.set_user), committed at the end."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(f"SET ROLE {role}")
        if user is not None:
            conn.execute("SELECT api.set_user(%s)", (user,))
        yield conn


def fetch(conninfo: str, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query as the superuser (no row-level security)."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchall()


def write(dbs: Pair, user: int | None, statement: str, params: tuple = (), role: str = "bank_app") -> object:
    """One statement in a transaction of its own, on both databases; its row count (the same on both)."""
    def run(conninfo: str) -> int:
        with acting(conninfo, user, role) as conn:
            return conn.execute(statement, params).rowcount
    return dbs.each(run)


def error(conninfo: str, user: int | None, statement: str, params: tuple, role: str) -> psycopg.Error:
    with acting(conninfo, user, role) as conn:
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(statement, params)
        conn.rollback()
    return caught.value


def failure(dbs: Pair, user: int | None, statement: str, params: tuple = (), role: str = "bank_app") -> tuple[str, str]:
    """The SQLSTATE and message a statement fails with, the same on both databases."""
    def run(conninfo: str) -> tuple[str, str]:
        caught = error(conninfo, user, statement, params, role)
        return caught.sqlstate, caught.diag.message_primary
    return dbs.each(run)


def refused(dbs: Pair, user: int, statement: str, params: tuple = ()) -> str:
    """The SQLSTATE a statement fails with, the same on both databases (the message may name a shard)."""
    return dbs.each(lambda c: error(c, user, statement, params, "bank_app").sqlstate)


def totals(dbs: Pair, user: int, month: date, category: str) -> tuple[Decimal, Decimal, int]:
    """(spending, income, txn_count) of a monthly totals row, the same on both; zeros when there is none."""
    def read(conninfo: str) -> tuple:
        with psycopg.connect(conninfo) as conn:
            row = conn.execute(
                "SELECT spending, income, txn_count FROM bank.monthly_totals "
                "WHERE user_id = %s AND month = %s AND category = %s",
                (user, month, category),
            ).fetchone()
        return row or (Decimal(0), Decimal(0), 0)
    return dbs.each(read)


def moved(before: tuple, after: tuple) -> tuple:
    return tuple(a - b for a, b in zip(after, before))


def budget_spent(dbs: Pair, user: int, month: date, category: str) -> Decimal | None:
    def read(conninfo: str) -> Decimal | None:
        with psycopg.connect(conninfo) as conn:
            row = conn.execute(
                "SELECT spent_amount FROM bank.budgets WHERE user_id = %s AND year = %s AND month = %s AND category = %s",
                (user, month.year, month.month, category),
            ).fetchone()
        return row[0] if row else None
    return dbs.each(read)


def assert_verified(dbs: Pair, *users: int) -> None:
    """No drift on either database, for all users, and for each user the step wrote for (Citus sends
    that check to the user's worker)."""
    for conninfo in dbs:
        with psycopg.connect(conninfo) as conn:
            assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
            for user in users:
                assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (user,)).fetchall() == []


def txn(user_account: tuple[int, int], description: str, amount: str, currency: str, txn_type: str, day: date,
        category: str | None) -> tuple:
    return (*user_account, description, amount, currency, txn_type, day, category)


INSERT_TXNS = (
    "INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date, category) "
    "VALUES "
)


def insert_txns(dbs: Pair, user: int | None, rows: list[tuple], role: str = "bank_app") -> int:
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    return write(dbs, user, INSERT_TXNS + values, tuple(v for row in rows for v in row), role)


# -- inserts ---------------------------------------------------------------------------------


def test_a_single_row_insert_moves_its_month_category_and_budget(dbs: Pair, months) -> None:
    this, _ = months
    before = totals(dbs, ADA, this, "Groceries")
    assert insert_txns(dbs, ADA, [txn((ADA, 3), "cw market", "12.34", "USD", "debit", this + timedelta(1), "Groceries")]) == 1
    after = totals(dbs, ADA, this, "Groceries")
    assert moved(before, after) == (Decimal("12.34"), 0, 1)
    assert budget_spent(dbs, ADA, this, "Groceries") == after[0]
    assert_verified(dbs, ADA)


def test_a_multi_row_insert_across_categories_months_and_currencies(dbs: Pair, months) -> None:
    this, last = months
    keys = [(this, "Groceries"), (this, "Salary"), (this, "Other"), (last, "Shopping")]
    before = {k: totals(dbs, BRUNO, *k) for k in keys}
    rows = [
        txn((BRUNO, 5), "cw bakery", "20.00", "EUR", "debit", this + timedelta(2), "Groceries"),
        txn((BRUNO, 5), "cw payroll", "1000.00", "EUR", "credit", this + timedelta(2), "Salary"),
        txn((BRUNO, 5), "cw nothing matches", "5.00", "EUR", "debit", this + timedelta(3), None),
        txn((BRUNO, 4), "cw us shop", "30.00", "USD", "debit", last + timedelta(9), "Shopping"),
    ]
    # The lookups hold no rates; bankdb's owner loads them (a reference table on Citus).
    write(dbs, None, "INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate) "
                     "VALUES ('USD', 'EUR', %s, 0.9137)", (last,), role="bank_owner")
    assert insert_txns(dbs, BRUNO, rows) == 4
    # The dollar purchase counts in euros, at the rate of its day, to the cent.
    [(fx_rate, base_amount)] = dbs.each(lambda c: fetch(
        c, "SELECT fx_rate, base_amount FROM bank.transactions WHERE user_id = %s AND description = 'cw us shop'", (BRUNO,)
    ))
    assert (fx_rate, base_amount) == (Decimal("0.9137"), Decimal("27.41"))
    assert moved(before[(this, "Groceries")], totals(dbs, BRUNO, this, "Groceries")) == (Decimal("20.00"), 0, 1)
    assert moved(before[(this, "Salary")], totals(dbs, BRUNO, this, "Salary")) == (0, Decimal("1000.00"), 1)
    assert moved(before[(this, "Other")], totals(dbs, BRUNO, this, "Other")) == (Decimal("5.00"), 0, 1)
    assert moved(before[(last, "Shopping")], totals(dbs, BRUNO, last, "Shopping")) == (base_amount, 0, 1)
    assert budget_spent(dbs, BRUNO, this, "Groceries") == totals(dbs, BRUNO, this, "Groceries")[0]
    assert_verified(dbs, BRUNO)


def test_one_statement_for_users_on_both_workers(dbs: Pair, months) -> None:
    """bankdb's own code (bank_owner) may write for several users at once: each shard's rows, on
    each worker, move their own user's totals."""
    this, _ = months
    assert fetch(
        dbs.distributed,
        "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'bank.transactions'::regclass "
        "AND shardid IN (SELECT get_shard_id_for_distribution_column('bank.transactions', u) "
        "FROM unnest(%s::bigint[]) AS u)",
        (list(USERS),),
    ) == [(2,)]
    before = {u: totals(dbs, u, this, "Transportation") for u in USERS}
    rows = [
        txn((ADA, 3), "cw bus", "7.00", "USD", "debit", this + timedelta(4), "Transportation"),
        txn((BRUNO, 5), "cw tram", "8.00", "EUR", "debit", this + timedelta(4), "Transportation"),
        txn((CHIYO, 6), "cw train", "900", "JPY", "debit", this + timedelta(4), "Transportation"),
        txn((CHIYO, 6), "cw taxi", "1500", "JPY", "debit", this + timedelta(5), "Transportation"),
    ]
    assert insert_txns(dbs, None, rows, role="bank_owner") == 4
    expected = {ADA: (Decimal("7.00"), 0, 1), BRUNO: (Decimal("8.00"), 0, 1), CHIYO: (Decimal("2400"), 0, 2)}
    assert {u: moved(before[u], totals(dbs, u, this, "Transportation")) for u in USERS} == expected
    assert_verified(dbs, ADA, BRUNO, CHIYO)


# -- updates and deletes ---------------------------------------------------------------------


def test_updates_of_amount_category_and_month_with_and_without_user_id(dbs: Pair, months) -> None:
    """Row-level security adds user_id = the acting user; Citus cannot route on it and runs an
    UPDATE without user_id in its WHERE on every shard, where the policy finds the user's rows."""
    this, last = months
    keys = [(last, "Groceries"), (last, "Shopping"), (this, "Shopping")]
    before = {k: totals(dbs, ADA, *k) for k in keys}

    def change(key: tuple[date, str]) -> tuple:
        return moved(before[key], totals(dbs, ADA, *key))

    insert_txns(dbs, ADA, [txn((ADA, 3), "cw to move", "10.00", "USD", "debit", last + timedelta(2), "Groceries")])
    assert change((last, "Groceries")) == (Decimal("10.00"), 0, 1)
    assert write(dbs, ADA, "UPDATE bank.transactions SET amount = 15.00 WHERE user_id = %s AND description = 'cw to move'",
                 (ADA,)) == 1
    assert change((last, "Groceries")) == (Decimal("15.00"), 0, 1)
    assert write(dbs, ADA, "UPDATE bank.transactions SET category = 'Shopping' WHERE description = 'cw to move'") == 1
    assert (change((last, "Groceries")), change((last, "Shopping"))) == ((0, 0, 0), (Decimal("15.00"), 0, 1))
    # To another month's partition, and into this month's Shopping budget.
    assert write(dbs, ADA, "UPDATE bank.transactions SET txn_date = %s WHERE description = 'cw to move'",
                 (this + timedelta(6),)) == 1
    assert (change((last, "Shopping")), change((this, "Shopping"))) == ((0, 0, 0), (Decimal("15.00"), 0, 1))
    assert budget_spent(dbs, ADA, this, "Shopping") == totals(dbs, ADA, this, "Shopping")[0]
    assert_verified(dbs, ADA)


def test_deletes_with_and_without_user_id(dbs: Pair, months) -> None:
    this, _ = months
    before = totals(dbs, BRUNO, this, "Entertainment")
    insert_txns(dbs, BRUNO, [
        txn((BRUNO, 5), "cw cinema a", "4.00", "EUR", "debit", this + timedelta(1), "Entertainment"),
        txn((BRUNO, 5), "cw cinema b", "6.00", "EUR", "debit", this + timedelta(1), "Entertainment"),
    ])
    assert moved(before, totals(dbs, BRUNO, this, "Entertainment")) == (Decimal("10.00"), 0, 2)
    assert write(dbs, BRUNO, "DELETE FROM bank.transactions WHERE user_id = %s AND description = 'cw cinema a'",
                 (BRUNO,)) == 1
    assert moved(before, totals(dbs, BRUNO, this, "Entertainment")) == (Decimal("6.00"), 0, 1)
    assert write(dbs, BRUNO, "DELETE FROM bank.transactions WHERE description = 'cw cinema b'") == 1
    assert moved(before, totals(dbs, BRUNO, this, "Entertainment")) == (0, 0, 0)
    assert budget_spent(dbs, BRUNO, this, "Entertainment") == before[0]
    assert_verified(dbs, BRUNO)


def test_tags_follow_their_transaction_to_another_month_and_go_with_it(dbs: Pair, months) -> None:
    """The links have no foreign key (V012): the tags trigger moves and deletes them, on Citus with
    one statement per transaction routed to the user's shard."""
    this, last = months
    insert_txns(dbs, CHIYO, [txn((CHIYO, 6), "cw tagged", "1200", "JPY", "debit", last + timedelta(3), "Groceries")])
    assert write(dbs, CHIYO, "INSERT INTO bank.tags (name) VALUES ('cw-trip')") == 1

    def links(conninfo: str) -> list[tuple]:
        with psycopg.connect(conninfo) as conn:
            return conn.execute(
                "SELECT l.txn_date, g.name FROM bank.transaction_tags AS l"
                " JOIN bank.tags AS g ON g.user_id = l.user_id AND g.id = l.tag_id"
                " JOIN bank.transactions AS t ON t.user_id = l.user_id AND t.txn_date = l.txn_date AND t.id = l.transaction_id"
                " WHERE l.user_id = %s AND t.description = 'cw tagged'", (CHIYO,)).fetchall()

    def tag_it(conninfo: str) -> None:
        with psycopg.connect(conninfo) as conn:
            txn_date, txn_id = conn.execute("SELECT txn_date, id FROM bank.transactions WHERE user_id = %s"
                                            " AND description = 'cw tagged'", (CHIYO,)).fetchone()
            tag_id = conn.execute("SELECT id FROM bank.tags WHERE user_id = %s AND name = 'cw-trip'", (CHIYO,)).fetchone()[0]
        with acting(conninfo, CHIYO) as conn:
            conn.execute("INSERT INTO bank.transaction_tags (txn_date, transaction_id, tag_id) VALUES (%s, %s, %s)",
                         (txn_date, txn_id, tag_id))

    for conninfo in dbs:
        tag_it(conninfo)
    assert dbs.each(links) == [(last + timedelta(3), "cw-trip")]
    assert write(dbs, CHIYO, "UPDATE bank.transactions SET txn_date = %s WHERE description = 'cw tagged'",
                 (this + timedelta(1),)) == 1
    assert dbs.each(links) == [(this + timedelta(1), "cw-trip")]
    assert write(dbs, CHIYO, "DELETE FROM bank.transactions WHERE description = 'cw tagged'") == 1
    assert dbs.each(lambda c: fetch(c, "SELECT count(*) FROM bank.transaction_tags WHERE user_id = %s", (CHIYO,))) \
        == [(0,)]
    assert_verified(dbs, CHIYO)


def test_a_split_transaction_counts_by_its_lines_and_follows_its_transaction(dbs: Pair, months) -> None:
    """Split lines (V015): the lines' trigger and the transactions' totals and splits triggers, on
    Citus with router statements per user and transaction; the sum checked at COMMIT on the worker."""
    this, last = months
    assert insert_txns(dbs, ADA, [txn((ADA, 3), "cw receipt", "42.50", "USD", "debit", this + timedelta(2),
                                      "Groceries")]) == 1
    keys = [(m, c) for m in (this, last) for c in ("Groceries", "Shopping", "Healthcare")]
    before = {k: totals(dbs, ADA, *k) for k in keys}

    def key(conninfo: str) -> tuple[date, int]:
        return fetch(conninfo, "SELECT txn_date, id FROM bank.transactions WHERE user_id = %s"
                               " AND description = 'cw receipt'", (ADA,))[0]

    def lines(conninfo: str) -> list[tuple]:
        return fetch(conninfo, "SELECT l.txn_date, l.line_no, l.category, l.amount, l.base_amount"
                               " FROM bank.transaction_splits AS l WHERE l.user_id = %s ORDER BY 1, 2", (ADA,))

    def in_one_transaction(*statements: str) -> Callable[[str], None]:
        def run(conninfo: str) -> None:
            txn_date, txn_id = key(conninfo)
            with acting(conninfo, ADA) as conn:
                for statement in statements:
                    conn.execute(statement, {"d": txn_date, "t": txn_id})
        return run

    dbs.each(in_one_transaction(
        "INSERT INTO bank.transaction_splits (txn_date, transaction_id, line_no, category, amount)"
        " VALUES (%(d)s, %(t)s, 1, 'Groceries', 30.00), (%(d)s, %(t)s, 2, 'Shopping', 10.00),"
        " (%(d)s, %(t)s, 3, 'Healthcare', 2.50)"
    ))
    assert [moved(before[k], totals(dbs, ADA, *k)) for k in keys[:3]] == [
        (Decimal("-12.50"), 0, 0), (Decimal("10.00"), 0, 1), (Decimal("2.50"), 0, 1)
    ]
    assert budget_spent(dbs, ADA, this, "Groceries") == totals(dbs, ADA, this, "Groceries")[0]
    assert_verified(dbs, ADA)
    # A rebuild writes the lines' shares and the totals again, the same on both.
    dbs.each(lambda c: fetch(c, "SELECT bank.rebuild_totals(%s)", (ADA,)))
    assert [moved(before[k], totals(dbs, ADA, *k)) for k in keys[:3]] == [
        (Decimal("-12.50"), 0, 0), (Decimal("10.00"), 0, 1), (Decimal("2.50"), 0, 1)
    ]
    assert_verified(dbs, ADA)
    # The parent and a line in one transaction, then the parent alone into last month.
    dbs.each(in_one_transaction(
        "UPDATE bank.transactions SET amount = 50.00 WHERE user_id = 1 AND txn_date = %(d)s AND id = %(t)s",
        "UPDATE bank.transaction_splits SET amount = 17.50 WHERE transaction_id = %(t)s AND line_no = 2",
    ))
    assert write(dbs, ADA, "UPDATE bank.transactions SET txn_date = %s WHERE description = 'cw receipt'",
                 (last + timedelta(4),)) == 1
    assert dbs.each(lines) == [
        (last + timedelta(4), 1, "Groceries", Decimal("30.00"), Decimal("30.00")),
        (last + timedelta(4), 2, "Shopping", Decimal("17.50"), Decimal("17.50")),
        (last + timedelta(4), 3, "Healthcare", Decimal("2.50"), Decimal("2.50")),
    ]
    assert [moved(before[k], totals(dbs, ADA, *k)) for k in keys] == [
        (Decimal("-42.50"), 0, -1), (0, 0, 0), (0, 0, 0),
        (Decimal("30.00"), 0, 1), (Decimal("17.50"), 0, 1), (Decimal("2.50"), 0, 1),
    ]
    assert_verified(dbs, ADA)

    # Lines that do not sum fail at COMMIT, on the worker as on one server; nothing changed.
    def unbalanced(conninfo: str) -> tuple[str, str]:
        with pytest.raises(psycopg.Error) as caught:
            in_one_transaction("DELETE FROM bank.transaction_splits WHERE transaction_id = %(t)s AND line_no = 3")(
                conninfo)
        return caught.value.sqlstate, caught.value.diag.message_primary.replace(str(key(conninfo)[1]), "<id>")
    assert dbs.each(unbalanced) == (
        "BKSP1", "transaction_splits_sum_check: the lines of transaction <id> sum to 47.50 USD, its amount is 50.00 USD"
    )
    assert len(dbs.each(lines)) == 3
    # The lines go with their transaction; the totals are as before the receipt.
    assert write(dbs, ADA, "DELETE FROM bank.transactions WHERE description = 'cw receipt'") == 1
    assert dbs.each(lines) == []
    assert [moved(before[k], totals(dbs, ADA, *k)) for k in keys] == [(Decimal("-42.50"), 0, -1)] + [(0, 0, 0)] * 5
    assert_verified(dbs, ADA)


def test_a_transaction_split_across_statements_reads_its_own_writes(dbs: Pair, months) -> None:
    """Inserts, an UPDATE that goes to every shard, a DELETE and reads in one transaction: each
    statement sees the totals the previous ones wrote, on the worker and through the views."""
    this, _ = months
    before = {c: totals(dbs, CHIYO, this, c) for c in ("Groceries", "Utilities")}

    def work(conninfo: str) -> list:
        seen = []
        with acting(conninfo, CHIYO) as conn:
            conn.execute(INSERT_TXNS + "(%s, 6, 'cw rice', 1000, 'JPY', 'debit', %s, 'Groceries'), "
                         "(%s, 6, 'cw fish', 2000, 'JPY', 'debit', %s, 'Groceries')",
                         (CHIYO, this + timedelta(2), CHIYO, this + timedelta(2)))
            conn.execute(INSERT_TXNS + "(%s, 6, 'cw power', 500, 'JPY', 'debit', %s, 'Utilities')",
                         (CHIYO, this + timedelta(3)))
            seen.append(conn.execute(
                "SELECT category, spending, txn_count FROM bank.monthly_totals WHERE month = %s "
                "AND category IN ('Groceries', 'Utilities') ORDER BY 1", (this,)).fetchall())
            conn.execute("UPDATE bank.transactions SET amount = 2500 WHERE description = 'cw fish'")
            conn.execute("DELETE FROM bank.transactions WHERE user_id = %s AND description = 'cw power'", (CHIYO,))
            seen.append(conn.execute(
                "SELECT category, spending, txn_count FROM bank.monthly_totals WHERE month = %s "
                "AND category IN ('Groceries', 'Utilities') ORDER BY 1", (this,)).fetchall())
            seen.append(conn.execute(
                "SELECT spent_amount FROM api.budget_status WHERE year = %s AND month = %s AND category = 'Groceries'",
                (this.year, this.month)).fetchall())
        return seen

    seen = dbs.each(work)
    groceries, utilities = before["Groceries"], before["Utilities"]
    assert seen[0] == [("Groceries", groceries[0] + 3000, groceries[2] + 2), ("Utilities", utilities[0] + 500, utilities[2] + 1)]
    assert seen[1] == [("Groceries", groceries[0] + 3500, groceries[2] + 2), ("Utilities", utilities[0], utilities[2])]
    assert seen[2] == [(groceries[0] + 3500,)]
    assert moved(groceries, totals(dbs, CHIYO, this, "Groceries")) == (3500, 0, 2)
    assert_verified(dbs, CHIYO)


# -- the functions applications call -----------------------------------------------------------


def ids(conninfo: str, user: int, *descriptions: str) -> list[int]:
    return [fetch(conninfo, "SELECT id FROM bank.transactions WHERE user_id = %s AND description = %s", (user, d))[0][0]
            for d in descriptions]


def test_linking_and_unlinking_a_transfer(dbs: Pair, months) -> None:
    """Both sides of a transfer leave spending and income, and come back when it is undone."""
    this, _ = months
    before = totals(dbs, ADA, this, "Other")
    insert_txns(dbs, ADA, [
        txn((ADA, 3), "cw to savings", "250.00", "USD", "debit", this + timedelta(2), None),
        txn((ADA, 2), "cw from checking", "250.00", "USD", "credit", this + timedelta(3), None),
    ])
    assert moved(before, totals(dbs, ADA, this, "Other")) == (Decimal("250.00"), Decimal("250.00"), 2)

    def link(conninfo: str) -> list[tuple]:
        debit, credit = ids(conninfo, ADA, "cw to savings", "cw from checking")
        with acting(conninfo, ADA) as conn:
            transfer = conn.execute("SELECT api.link_transfer(%s, %s)", (debit, credit)).fetchone()[0]
            return conn.execute("SELECT kind::text, transfer_id = %s FROM bank.transactions WHERE id IN (%s, %s)",
                                (transfer, debit, credit)).fetchall()

    def unlink(conninfo: str) -> int:
        with acting(conninfo, ADA) as conn:
            transfer = conn.execute(
                "SELECT transfer_id FROM bank.transactions WHERE description = 'cw to savings'").fetchone()[0]
            return conn.execute("SELECT api.unlink_transfer(%s)", (transfer,)).fetchone()[0]

    assert dbs.each(link) == [("transfer", True), ("transfer", True)]
    assert moved(before, totals(dbs, ADA, this, "Other")) == (0, 0, 0)
    assert_verified(dbs, ADA)
    assert dbs.each(unlink) == 2
    assert moved(before, totals(dbs, ADA, this, "Other")) == (Decimal("250.00"), Decimal("250.00"), 2)
    assert dbs.each(link) == [("transfer", True), ("transfer", True)]
    assert moved(before, totals(dbs, ADA, this, "Other")) == (0, 0, 0)
    assert_verified(dbs, ADA)


def bills(conninfo: str, user: int) -> list[tuple]:
    return fetch(
        conninfo,
        "SELECT biller_name, due_date, amount_due, currency, status::text, recurrence::text, series_start, occurrence, "
        "paid_at IS NOT NULL FROM bank.bills WHERE user_id = %s ORDER BY biller_name, due_date",
        (user,),
    )


def test_paying_bills(dbs: Pair, months) -> None:
    """Paid records when; a recurring bill comes back due series_start + n months; overdue bills
    can be paid; a paid bill cannot go back (BKBL1)."""
    this, _ = months
    due = this + timedelta(27)
    assert write(dbs, ADA, "INSERT INTO bank.bills (biller_name, due_date, amount_due, recurrence) "
                           "VALUES ('cw rent', %s, 1200, 'monthly')", (due,)) == 1
    assert write(dbs, ADA, "UPDATE bank.bills SET status = 'paid' WHERE user_id = %s AND biller_name = 'cw rent'",
                 (ADA,)) == 1
    assert write(dbs, ADA, "UPDATE bank.bills SET status = 'paid' WHERE status = 'overdue'") == 1
    next_due = date(due.year + due.month // 12, due.month % 12 + 1, due.day)
    rent = [b for b in dbs.each(lambda c: bills(c, ADA)) if b[0] == "cw rent"]
    assert rent == [
        ("cw rent", due, Decimal("1200.00"), "USD", "paid", "monthly", due, 0, True),
        ("cw rent", next_due, Decimal("1200.00"), "USD", "upcoming", "monthly", due, 1, False),
    ]
    assert refused(dbs, ADA, "UPDATE bank.bills SET status = 'upcoming' WHERE biller_name = 'cw rent' "
                             "AND status = 'paid'") == "BKBL1"


def test_rules_categorize_inserts_and_existing_transactions(dbs: Pair, months) -> None:
    this, _ = months
    keys = ("Other", "Entertainment", "Healthcare")
    before = {c: totals(dbs, BRUNO, this, c) for c in keys}
    write(dbs, BRUNO, "INSERT INTO bank.category_rules (category, keyword_pattern) VALUES ('Entertainment', 'theatre')")
    insert_txns(dbs, BRUNO, [
        txn((BRUNO, 5), "CW Theatre Royal", "40.00", "EUR", "debit", this + timedelta(5), None),
        txn((BRUNO, 5), "cw pharmacy one", "9.00", "EUR", "debit", this + timedelta(5), None),
        txn((BRUNO, 5), "cw pharmacy two", "11.00", "EUR", "debit", this + timedelta(6), None),
    ])
    assert moved(before["Entertainment"], totals(dbs, BRUNO, this, "Entertainment")) == (Decimal("40.00"), 0, 1)
    assert moved(before["Other"], totals(dbs, BRUNO, this, "Other")) == (Decimal("20.00"), 0, 2)
    write(dbs, BRUNO, "INSERT INTO bank.category_rules (category, keyword_pattern, priority) "
                      "VALUES ('Healthcare', 'pharmacy', 5)")

    def apply(conninfo: str) -> int:
        with acting(conninfo, BRUNO) as conn:
            return conn.execute("SELECT api.apply_category_rules()").fetchone()[0]

    assert dbs.each(apply) == 2
    assert moved(before["Healthcare"], totals(dbs, BRUNO, this, "Healthcare")) == (Decimal("20.00"), 0, 2)
    categorized = dbs.each(lambda c: fetch(
        c, "SELECT description, category, category_rule_id IS NOT NULL FROM bank.transactions "
           "WHERE user_id = %s AND description LIKE 'cw pharmacy%%' ORDER BY 1", (BRUNO,)))
    assert categorized == [("cw pharmacy one", "Healthcare", True), ("cw pharmacy two", "Healthcare", True)]
    assert_verified(dbs, BRUNO)


def test_rewards_entries_move_the_balance(dbs: Pair) -> None:
    def balance(conninfo: str) -> int:
        return fetch(conninfo, "SELECT points_balance FROM bank.rewards WHERE user_id = %s", (CHIYO,))[0][0]

    before = dbs.each(balance)
    # Citus refuses a subquery in INSERT ... VALUES (0A000): the reward's id is read first.
    [(reward,)] = dbs.each(lambda c: fetch(c, "SELECT id FROM bank.rewards WHERE user_id = %s", (CHIYO,)))
    entry = "INSERT INTO bank.reward_entries (reward_id, entry_type, points, description) VALUES (%s, %s, %s, 'cw')"
    assert write(dbs, CHIYO, entry, (reward, "earn", 300)) == 1
    assert write(dbs, CHIYO, entry, (reward, "redeem", 100)) == 1
    assert dbs.each(balance) == before + 200
    assert refused(dbs, CHIYO, entry, (reward, "redeem", before + 201)) == "BKRW1"
    assert dbs.each(balance) == before + 200
    assert_verified(dbs, CHIYO)


def alerts(conninfo: str, user: int) -> list[tuple]:
    return fetch(conninfo, "SELECT type::text, period, message FROM bank.alerts WHERE user_id = %s ORDER BY 1, 2, 3",
                 (user,))


def test_budgets_start_from_the_months_spending_and_raise_alerts(dbs: Pair, months) -> None:
    this, last = months
    # A budget for a month that already has spending starts with it.
    spent_before = totals(dbs, BRUNO, last, "Shopping")[0]
    assert write(dbs, BRUNO, "INSERT INTO bank.budgets (year, month, category, limit_amount) VALUES (%s, %s, 'Shopping', 500)",
                 (last.year, last.month)) == 1
    assert budget_spent(dbs, BRUNO, last, "Shopping") == spent_before > 0
    # The warning line (80 %), then the limit, each crossed once.
    base = totals(dbs, BRUNO, this, "Utilities")[0]
    write(dbs, BRUNO, "INSERT INTO bank.budgets (year, month, category, limit_amount) VALUES (%s, %s, 'Utilities', %s)",
          (this.year, this.month, base + 100))
    insert_txns(dbs, BRUNO, [txn((BRUNO, 5), "cw water", "85.00", "EUR", "debit", this + timedelta(3), "Utilities")])
    insert_txns(dbs, BRUNO, [txn((BRUNO, 5), "cw gas", "20.00", "EUR", "debit", this + timedelta(3), "Utilities")])
    assert budget_spent(dbs, BRUNO, this, "Utilities") == base + Decimal("105.00")
    raised = [a for a in dbs.each(lambda c: alerts(c, BRUNO)) if "Utilities" in a[2]]
    limit = base + 100
    assert raised == [
        ("budget_exceeded", this, f"Utilities budget for {this:%Y-%m} exceeded: spent {base + Decimal('105.00')} EUR "
                                  f"of {limit:.2f} EUR ({round((base + 105) * 100 / limit)}%)"),
        ("budget_warning", this, f"Utilities budget for {this:%Y-%m} nearly used: spent {base + Decimal('85.00')} EUR "
                                 f"of {limit:.2f} EUR ({round((base + 85) * 100 / limit)}%)"),
    ]
    assert write(dbs, BRUNO, "UPDATE bank.budgets SET limit_amount = 900 WHERE category = 'Utilities' AND month = %s",
                 (this.month,)) == 1
    assert_verified(dbs, BRUNO)


def carried_in(dbs: Pair, user: int, month: date, category: str) -> Decimal | None:
    def read(conninfo: str) -> Decimal | None:
        rows = fetch(conninfo, "SELECT carried_in FROM bank.budgets WHERE user_id = %s AND year = %s AND month = %s"
                               " AND category = %s", (user, month.year, month.month, category))
        return rows[0][0] if rows else None
    return dbs.each(read)


def test_budget_rollover_carries_every_change_forward(dbs: Pair, months) -> None:
    """The budgets' carry triggers run on the shard of the user's budgets, each month's UPDATE of the
    next a router statement there, as the totals trigger's budget UPDATE is."""
    this, last = months
    after = (this + timedelta(days=32)).replace(day=1)
    budget = ("INSERT INTO bank.budgets (year, month, category, limit_amount, rollover) "
              "VALUES (%s, %s, 'Healthcare', %s, %s)")
    for month, limit, rollover in ((last, 200, "both_ways"), (this, 100, "surplus_only"), (after, 50, "none")):
        assert write(dbs, BRUNO, budget, (month.year, month.month, limit, rollover)) == 1
    spent_last = totals(dbs, BRUNO, last, "Healthcare")[0]
    spent_this = totals(dbs, BRUNO, this, "Healthcare")[0]
    assert carried_in(dbs, BRUNO, this, "Healthcare") == 200 - spent_last
    assert carried_in(dbs, BRUNO, after, "Healthcare") == max(100 + 200 - spent_last - spent_this, 0)
    # Backdated into last month: an overspend carried both ways, not floored at zero; surplus_only
    # then passes nothing on.
    insert_txns(dbs, BRUNO, [txn((BRUNO, 5), "cw pharmacy", "250.00", "EUR", "debit", last + timedelta(4),
                                 "Healthcare")])
    assert carried_in(dbs, BRUNO, this, "Healthcare") == -50 - spent_last
    assert carried_in(dbs, BRUNO, after, "Healthcare") == max(50 - spent_last - spent_this, 0)
    month_of = "user_id = %s AND category = 'Healthcare' AND year = %s AND month = %s"
    assert write(dbs, BRUNO, f"UPDATE bank.budgets SET rollover = 'surplus_only' WHERE {month_of}",
                 (BRUNO, last.year, last.month)) == 1
    assert carried_in(dbs, BRUNO, this, "Healthcare") == 0
    assert write(dbs, BRUNO, f"UPDATE bank.budgets SET rollover = 'both_ways', limit_amount = 400 WHERE {month_of}",
                 (BRUNO, last.year, last.month)) == 1
    assert carried_in(dbs, BRUNO, this, "Healthcare") == 150 - spent_last
    status = ("SELECT year, month, rollover, carried_in, available, remaining, percent_spent, status "
              "FROM api.budget_status WHERE user_id = %s AND category = 'Healthcare' ORDER BY year, month")
    dbs.each(lambda c: fetch(c, status, (BRUNO,)))
    # Another user's budgets are not even seen; a value not in the list is refused by its rule.
    assert write(dbs, ADA, "UPDATE bank.budgets SET rollover = 'both_ways' WHERE user_id = %s", (BRUNO,)) == 0
    assert refused(dbs, BRUNO, f"UPDATE bank.budgets SET rollover = 'sideways' WHERE {month_of}",
                   (BRUNO, this.year, this.month)) == "23514"
    # The middle month deleted: the chain breaks there.
    assert write(dbs, BRUNO, f"DELETE FROM bank.budgets WHERE {month_of}", (BRUNO, this.year, this.month)) == 1
    assert carried_in(dbs, BRUNO, after, "Healthcare") == 0
    assert_verified(dbs, BRUNO)


def test_accounts_keep_money_at_scale_and_raise_low_balance_alerts(dbs: Pair) -> None:
    account = ("INSERT INTO bank.accounts (bank_name, account_type, masked_account, currency, balance, "
               "low_balance_threshold) VALUES ('cw bank', 'savings', '****0042', 'JPY', %s, 1000)")
    assert refused(dbs, CHIYO, account, ("5000.5",)) == "23514"
    assert write(dbs, CHIYO, account, ("5000",)) == 1
    assert write(dbs, CHIYO, "UPDATE bank.accounts SET balance = 400 WHERE bank_name = 'cw bank'") == 1
    low = [a for a in dbs.each(lambda c: alerts(c, CHIYO)) if a[0] == "low_balance"]
    assert [m for _, _, m in low] == ["Balance of cw bank ****0042 is 400 JPY, below your 1000 JPY threshold"]


# -- what applications may not do -------------------------------------------------------------


DERIVED_WRITES = {
    "budgets.spent_amount": "INSERT INTO bank.budgets (year, month, category, limit_amount, spent_amount) "
                            "VALUES (2020, 1, 'Other', 10, 5)",
    "rewards.points_balance": "INSERT INTO bank.rewards (program_name, points_balance) VALUES ('cw free points', 1000000)",
    "accounts.disabled_at": "INSERT INTO bank.accounts (bank_name, account_type, masked_account, currency, disabled_at) "
                            "VALUES ('cw', 'savings', '****0043', 'USD', now())",
    "transactions.import_batch_id": "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, "
                                    "txn_date, import_batch_id) VALUES (3, 'cw', 1, 'USD', 'debit', current_date, 1)",
    "transactions.statement_id": "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, "
                                 "txn_date, statement_id) VALUES (3, 'cw', 1, 'USD', 'debit', current_date, 1)",
    "statements.reconciled_at": "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance, "
                                "closing_balance, reconciled_at) VALUES (3, '2020-01-01', '2020-01-31', 0, 0, now())",
    "statements.currency": "INSERT INTO bank.statements (account_id, period_start, period_end, opening_balance, "
                           "closing_balance, currency) VALUES (3, '2020-01-01', '2020-01-31', 0, 0, 'USD')",
    "budgets.carried_in": "INSERT INTO bank.budgets (year, month, category, limit_amount, carried_in) "
                          "VALUES (2020, 1, 'Other', 10, 5)",
    "update budgets.spent_amount": "UPDATE bank.budgets SET spent_amount = 0",
    "update budgets.carried_in": "UPDATE bank.budgets SET carried_in = 0",
    "update rewards.points_balance": "UPDATE bank.rewards SET points_balance = 1",
    "update accounts.disabled_at": "UPDATE bank.accounts SET disabled_at = now()",
    "update transactions.import_batch_id": "UPDATE bank.transactions SET import_batch_id = 1 WHERE user_id = 1",
    "update transactions.statement_id": "UPDATE bank.transactions SET statement_id = 1 WHERE user_id = 1",
    "update statements.reconciled_at": "UPDATE bank.statements SET reconciled_at = now()",
    "monthly_totals": "INSERT INTO bank.monthly_totals (user_id, month, category) VALUES (1, '2020-01-01', 'Other')",
}


@pytest.mark.parametrize("statement", DERIVED_WRITES.values(), ids=DERIVED_WRITES.keys())
def test_applications_cannot_write_derived_columns(dbs: Pair, statement: str) -> None:
    """On one server the column grants refuse these; on Citus, where bank_app holds INSERT on the
    whole table, bank.tg__derived_columns_on_insert does, with the same SQLSTATE."""
    assert refused(dbs, ADA, statement) == "42501"


def test_the_insert_guard_covers_every_table_whose_insert_grant_is_column_level_on_one_server(dbs: Pair) -> None:
    tables = ("SELECT c.relname::text FROM pg_class AS c WHERE c.relnamespace = 'bank'::regnamespace "
              "AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND ")
    column_level = {t for (t,) in fetch(dbs.single, tables + "has_any_column_privilege('bank_app', c.oid, 'INSERT') "
                                                             "AND NOT has_table_privilege('bank_app', c.oid, 'INSERT')")}
    whole_table = {t for (t,) in fetch(dbs.distributed, tables + "has_table_privilege('bank_app', c.oid, 'INSERT')")}
    guarded = {t for (t,) in fetch(
        dbs.distributed,
        "SELECT c.relname::text FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
        "WHERE t.tgname = '_100_derived_columns_on_insert' AND c.relnamespace = 'bank'::regnamespace",
    )}
    assert column_level == {"accounts", "budgets", "rewards", "reward_entries", "statements", "tags",
                            "transaction_tags", "transaction_splits", "transactions"}
    assert guarded == column_level and column_level <= whole_table


def test_what_the_insert_guard_cannot_refuse_on_citus(dbs: Pair) -> None:
    """An id and a creation time are not told apart from the defaults Citus fills in: on one server
    the column grants refuse both; on Citus the time is the worker's now() and the id is kept (keys
    are (user_id, id): it stays the user's own)."""
    stamped = ("INSERT INTO bank.rewards (program_name, created_at) VALUES ('cw backdated', '2000-01-01') "
               "RETURNING created_at > '2020-01-01'")
    chosen = "INSERT INTO bank.rewards (id, program_name) OVERRIDING SYSTEM VALUE VALUES (424242, 'cw chosen id') RETURNING id"
    for statement in (stamped, chosen):
        with acting(dbs.single, ADA) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    with acting(dbs.distributed, ADA) as conn:
        assert conn.execute(stamped).fetchone() == (True,)
        assert conn.execute(chosen).fetchone() == (424242,)
        conn.rollback()


def test_applications_cannot_write_another_users_rows(dbs: Pair, months) -> None:
    this, _ = months
    assert refused(dbs, ADA, INSERT_TXNS + "(%s, 5, 'cw not mine', 1, 'EUR', 'debit', %s, NULL)",
                   (BRUNO, this)) == "42501"
    assert write(dbs, ADA, "UPDATE bank.transactions SET amount = 1 WHERE user_id = %s", (BRUNO,)) == 0
    assert write(dbs, ADA, "UPDATE bank.transactions SET amount = 1 WHERE account_id = 5") == 0
    assert write(dbs, ADA, "DELETE FROM bank.transactions WHERE user_id = %s", (BRUNO,)) == 0
    assert write(dbs, ADA, "UPDATE bank.budgets SET limit_amount = 1 WHERE user_id = %s", (BRUNO,)) == 0
    assert write(dbs, ADA, "DELETE FROM bank.accounts WHERE id = 5") == 0
    debit, credit = ids(dbs.single, BRUNO, "cw bakery", "cw payroll")
    assert ids(dbs.distributed, BRUNO, "cw bakery", "cw payroll") == [debit, credit]
    assert refused(dbs, ADA, "SELECT api.link_transfer(%s, %s)", (debit, credit)) == "BKNF1"
    assert_verified(dbs, ADA, BRUNO)


def test_refusals_from_the_shards_name_the_table(dbs: Pair) -> None:
    """The triggers run on a shard (bank.transactions_102008) and name its table, as on one server."""
    assert failure(dbs, None, "UPDATE bank.transactions SET amount = 1 WHERE user_id = 1") == (
        "BKUS1", "no acting user: call api.set_user(user_id) in this transaction before writing bank.transactions",
    )
    assert failure(dbs, None, "DELETE FROM bank.reward_entries WHERE user_id = 1", role="bank_owner") == (
        "BKAO1", "bank.reward_entries is append-only: DELETE refused",
    )


def test_what_applications_write_otherwise_on_citus(dbs: Pair, months) -> None:
    """Statements that work on one server and that Citus plans otherwise (docs/scale-out.md)."""
    this, _ = months
    copy = ("INSERT INTO bank.category_rules (user_id, category, keyword_pattern) "
            "SELECT b.user_id, b.category, 'cw copied' FROM bank.budgets AS b WHERE b.user_id = %s")
    with acting(dbs.single, ADA) as conn:
        assert conn.execute(copy, (ADA,)).rowcount > 0
        conn.rollback()
    with acting(dbs.distributed, ADA) as conn:
        # INSERT ... SELECT into a table with an identity column goes through the coordinator, as
        # COPY into the shards, which PostgreSQL refuses under row-level security.
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="COPY FROM not supported with row-level security"):
            conn.execute(copy, (ADA,))
        conn.rollback()
        conn.execute("SELECT api.set_user(%s)", (ADA,))
        # A subquery in INSERT ... VALUES.
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="subqueries are not supported within INSERT"):
            conn.execute("INSERT INTO bank.reward_entries (reward_id, entry_type, points) "
                         "VALUES ((SELECT id FROM bank.rewards), 'earn', 1)")
        conn.rollback()
        conn.execute("SELECT api.set_user(%s)", (ADA,))
        # Without user_id in its WHERE an UPDATE or DELETE goes to every shard (the policy's
        # user_id = api.current_user_id() is applied there, not used to route it).
        shards = conn.execute(
            "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'bank.transactions'::regclass").fetchone()[0]

        def tasks(statement: str) -> int:
            plan = [line for (line,) in conn.execute("EXPLAIN (COSTS OFF) " + statement).fetchall()]
            return int(next(line for line in plan if "Task Count:" in line).split(":")[1])

        assert tasks("UPDATE bank.transactions SET amount = 1 WHERE id = 1") == shards > 1
        assert tasks("DELETE FROM bank.transactions WHERE id = 1") == shards
        assert tasks(f"UPDATE bank.transactions SET amount = 1 WHERE user_id = {ADA} AND id = 1") == 1
        assert tasks(f"DELETE FROM bank.transactions WHERE user_id = {ADA} AND id = 1") == 1


# -- verify and rebuild, for one user ---------------------------------------------------------


def test_verify_totals_for_one_user_reports_drift_and_rebuild_repairs_it(dbs: Pair, months) -> None:
    this, _ = months

    def drift(conninfo: str) -> tuple:
        with psycopg.connect(conninfo) as conn:
            conn.execute("UPDATE bank.monthly_totals SET spending = spending + 1 WHERE user_id = %s AND month = %s "
                         "AND category = 'Groceries'", (BRUNO, this))
            conn.execute("UPDATE bank.rewards SET points_balance = points_balance + 5 WHERE user_id = %s", (BRUNO,))
            reported = conn.execute("SELECT subject, user_id FROM bank.verify_totals(%s)", (BRUNO,)).fetchall()
            others = conn.execute("SELECT count(*) FROM bank.verify_totals(%s)", (ADA,)).fetchone()[0]
            conn.execute("SELECT bank.rebuild_totals(%s)", (BRUNO,))
            repaired = conn.execute("SELECT count(*) FROM bank.verify_totals()").fetchone()[0]
            conn.rollback()
        return reported, others, repaired

    assert dbs.each(drift) == (
        [("budgets.spent_amount", BRUNO), ("monthly_totals.spending", BRUNO), ("rewards.points_balance", BRUNO)], 0, 0,
    )


# -- at the end, the same state ---------------------------------------------------------------

STATE = {
    "monthly_totals": "SELECT user_id, month, category, spending, income, txn_count FROM bank.monthly_totals",
    "budgets": "SELECT user_id, year, month, category, limit_amount, spent_amount, warning_percent, rollover, "
               "carried_in FROM bank.budgets",
    "rewards": "SELECT user_id, program_name, points_balance FROM bank.rewards",
    "alerts": "SELECT user_id, type::text, period, message, is_read FROM bank.alerts",
    "transactions": "SELECT user_id, account_id, description, category, amount, currency, txn_type::text, txn_date, "
                    "kind::text, fx_rate, base_amount, is_categorized, category_rule_id IS NOT NULL, "
                    "transfer_id IS NOT NULL FROM bank.transactions",
    "bills": "SELECT user_id, biller_name, due_date, amount_due, currency, status::text, occurrence FROM bank.bills",
}


def test_every_derived_table_ends_as_on_one_server(dbs: Pair) -> None:
    def rows(conninfo: str, query: str) -> list[tuple]:
        return sorted(fetch(conninfo, query), key=lambda row: [(v is None, str(v)) for v in row])

    for name, query in STATE.items():
        # The demo data raises no alert; the steps above do.
        assert dbs.each(lambda c, q=query: rows(c, q)) or name == "alerts", name
    assert_verified(dbs, *USERS)
