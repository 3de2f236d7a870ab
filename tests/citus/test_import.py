"""The import API on a distributed database, beside one server (issue 14).

The demo data, distributed on the cluster and loaded on one server, with a EUR rate and rules for
Ada. Each step imports the same rows on both, as bank_app acting for Ada (api.import_transactions
with a JSON array, api.import_staged with a temporary table, api.undo_import): the same batch (counts
and rejections), the same rows (categories, rules, rates, base amounts, order of ids), the same
totals, budgets, alerts, daily flows and bank ids, and bank.verify_totals() empty on both. Then
`bankdb import` against the coordinator, and a rule deleted while an import chooses it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from psycopg.conninfo import conninfo_to_dict

from ..conftest import REPO, Server, database
from ..runner.test_cli import bankdb
from .conftest import Cluster
from .data import distributed_database, load_demo
from .test_writes import Pair, acting, assert_verified, fetch

ADA, BRUNO = 1, 2
CHECKING, SAVINGS = 3, 2  # Ada's USD accounts
SHA = "c" * 64
QUOTED = "O'Brien's \\ deli'); DELETE FROM bank.transactions; --"  # written into the Citus rendering's VALUES
RULES = [("Groceries", "market", None, 5), ("Entertainment", "cafe|coffee", None, 1), ("Shopping", None, "acme", 0)]


def prepare(conninfo: str) -> None:
    """A EUR-USD rate (a reference table: as the superuser), bank_app's temporary tables, Ada's rules (as bank_app)."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)"
                     " VALUES ('EUR', 'USD', '2019-01-01', 1.1)")
        # A DBA's one-time grant for api.import_staged (docs/api.md): bank_app's temporary table.
        conn.execute(f'GRANT TEMPORARY ON DATABASE "{conninfo_to_dict(conninfo)["dbname"]}" TO bank_app')
    with acting(conninfo, ADA) as conn:
        for category, keyword, merchant, priority in RULES:
            conn.execute("INSERT INTO bank.category_rules (category, keyword_pattern, merchant_pattern, priority)"
                         " VALUES (%s, %s, %s, %s)", (category, keyword, merchant, priority))


@pytest.fixture(scope="module")
def single(server: Server) -> Iterator[str]:
    for conninfo in database(server, None):
        load_demo(conninfo)
        prepare(conninfo)
        yield conninfo


@pytest.fixture(scope="module")
def distributed(cluster: Cluster) -> Iterator[str]:
    with distributed_database(cluster, load_demo) as conninfo:
        prepare(conninfo)
        yield conninfo


@pytest.fixture(scope="module")
def dbs(single: str, distributed: str) -> Pair:
    return Pair(single, distributed)


@pytest.fixture(scope="module")
def today(single: str) -> date:
    with psycopg.connect(single) as conn:
        return conn.execute("SELECT current_date").fetchone()[0]


BATCH = ("source", "file_sha256", "partial", "inserted_count", "duplicate_count", "rejected_count", "rejections")


def summary(batch: dict) -> tuple:
    return tuple(batch[k] for k in BATCH)


def import_json(conninfo: str, rows: list, sha: str | None = None, partial: bool = True) -> dict:
    with acting(conninfo, ADA) as conn:
        return conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM api.import_transactions(%s, %s, 'test.json', %s, %s)", (CHECKING, Jsonb(rows), sha, partial)
        ).fetchone()


ROWS_OF_BATCH = """
SELECT t.txn_date, t.posted_date, t.description, t.merchant, t.category, r.category AS rule_category,
    r.keyword_pattern, r.merchant_pattern, t.is_categorized, t.amount, t.currency, t.txn_type::text, t.fx_rate,
    t.base_amount, t.external_id, t.kind::text
FROM bank.transactions AS t
LEFT JOIN bank.category_rules AS r ON r.user_id = t.user_id AND r.id = t.category_rule_id
WHERE t.user_id = %s AND t.import_batch_id = %s
ORDER BY t.id
"""

DERIVED = {
    "monthly_totals": "SELECT month, category, spending, income, txn_count FROM bank.monthly_totals"
                      " WHERE user_id = %s AND (spending, income, txn_count) <> (0, 0, 0) ORDER BY 1, 2",
    "budgets": "SELECT year, month, category, spent_amount FROM bank.budgets WHERE user_id = %s ORDER BY 1, 2, 3",
    "alerts": "SELECT type::text, period, message FROM bank.alerts WHERE user_id = %s ORDER BY 1, 2, 3",
    "daily_flows": "SELECT account_id, day, currency, credits, debits, txn_count FROM bank.daily_flows"
                   " WHERE user_id = %s AND (credits, debits, txn_count) <> (0, 0, 0) ORDER BY 1, 2, 3",
    "external_ids": "SELECT x.account_id, x.external_id, t.description FROM bank.transaction_external_ids AS x"
                    " JOIN bank.transactions AS t ON t.user_id = x.user_id AND t.id = x.transaction_id"
                    " WHERE x.user_id = %s ORDER BY 1, 2",
}


def derived(dbs: Pair) -> dict[str, list[tuple]]:
    """Ada's derived rows, the same on both."""
    return dbs.each(lambda c: {name: fetch(c, query, (ADA,)) for name, query in DERIVED.items()})


def batch_rows(dbs: Pair, batch_ids: tuple[int, int]) -> list[tuple]:
    return dbs.each(lambda c: fetch(c, ROWS_OF_BATCH, (ADA, batch_ids[list(dbs).index(c)])))


def first_batch(today: date) -> list[dict]:
    this = today.replace(day=1)
    last = this - timedelta(days=1)
    return [
        {"txn_date": str(this), "amount": "-45.10", "description": "Corner Market"},
        {"txn_date": str(this), "amount": "-12.00", "description": "Blue Bottle Coffee", "external_id": "B-1"},
        {"txn_date": str(this + timedelta(days=1)), "amount": "-12.00", "description": "Blue Bottle Coffee",
         "external_id": "B-1"},
        {"txn_date": str(this), "amount": "-300", "description": "Farmers market", "category": "Groceries"},
        {"txn_date": str(this), "amount": "-20.00", "description": "Jacket", "merchant": "ACME Outfitters",
         "currency": "EUR", "posted_date": str(this + timedelta(days=2))},
        {"txn_date": str(last), "amount": "2500.00", "txn_type": "credit", "description": "Payroll"},
        {"txn_date": "2019-03-15", "amount": "-3.50", "description": "Old coffee"},
        {"txn_date": str(this), "amount": "12,50", "description": "Comma"},
        {"txn_date": str(this), "amount": "-10", "description": "Franc", "currency": "CHF"},
        {"txn_date": str(this), "amount": "-2.75", "description": "Bus ticket"},
        {"txn_date": str(this), "amount": "-2.75", "description": "Bus  TICKET"},
        {"txn_date": str(this), "amount": "-1.00", "description": QUOTED},
    ]


@pytest.fixture(scope="module")
def imported(dbs: Pair, today: date) -> dict:
    """The first batch, imported on both; what it returned and Ada's derived rows before it."""
    before = derived(dbs)
    batches = [import_json(c, first_batch(today), SHA) for c in dbs]
    return {"before": before, "batches": batches, "after": derived(dbs)}


def test_a_batch_imports_the_same_rows_totals_and_alerts_as_on_one_server(dbs: Pair, imported: dict,
                                                                          today: date) -> None:
    single, citus = imported["batches"]
    assert summary(citus) == summary(single)
    assert (single["inserted_count"], single["duplicate_count"], single["rejected_count"]) == (9, 1, 2)
    assert [(r["row"], r["rule"], r["value"]) for r in single["rejections"]] == [
        (8, "import_amount_format", "12,50"), (9, "exchange_rate_missing", "CHF")]
    this = today.replace(day=1)
    rows = batch_rows(dbs, (single["id"], citus["id"]))
    assert [(r[2], r[4], r[5], r[9], r[10], r[12], r[13]) for r in rows] == [
        ("Corner Market", "Groceries", "Groceries", Decimal("45.10"), "USD", Decimal("1"), Decimal("45.10")),
        ("Blue Bottle Coffee", "Entertainment", "Entertainment", Decimal("12.00"), "USD", Decimal("1"), Decimal("12.00")),
        ("Farmers market", "Groceries", None, Decimal("300.00"), "USD", Decimal("1"), Decimal("300.00")),
        ("Jacket", "Shopping", "Shopping", Decimal("20.00"), "EUR", Decimal("1.1"), Decimal("22.00")),
        ("Payroll", None, None, Decimal("2500.00"), "USD", Decimal("1"), Decimal("2500.00")),
        ("Old coffee", "Entertainment", "Entertainment", Decimal("3.50"), "USD", Decimal("1"), Decimal("3.50")),
        ("Bus ticket", None, None, Decimal("2.75"), "USD", Decimal("1"), Decimal("2.75")),
        ("Bus  TICKET", None, None, Decimal("2.75"), "USD", Decimal("1"), Decimal("2.75")),
        (QUOTED, None, None, Decimal("1.00"), "USD", Decimal("1"), Decimal("1.00")),
    ]
    after = imported["after"]
    assert after["budgets"] == [
        (this.year, this.month, "Entertainment", Decimal("70.80")),
        (this.year, this.month, "Groceries", Decimal("345.10")),
        (this.year, this.month, "Shopping", Decimal("141.98")),
    ]
    assert [a[:2] for a in after["alerts"]] == [("budget_warning", this), ("budget_warning", this)]
    assert after["external_ids"] == [(CHECKING, "B-1", "Blue Bottle Coffee")]
    assert ("2019-03-01", "Entertainment", Decimal("3.50"), Decimal("0"), 1) in [
        (str(m), c, s, i, n) for m, c, s, i, n in after["monthly_totals"]]
    assert_verified(dbs, ADA)


def test_the_same_file_again_is_refused_by_its_key(dbs: Pair, imported: dict, today: date) -> None:
    def again(conninfo: str) -> tuple:
        with pytest.raises(psycopg.errors.UniqueViolation) as caught:
            import_json(conninfo, first_batch(today), SHA)
        return caught.value.diag.constraint_name, caught.value.diag.message_hint
    assert dbs.each(again) == ("import_batches_file_sha256_key",
                               "Undo that batch first (api.undo_import) to import the file again.")


def staged(conninfo: str, rows: list[tuple]) -> dict:
    with acting(conninfo, ADA) as conn:
        conn.execute("CREATE TEMPORARY TABLE bank_import_rows (line bigint, txn_date text, amount text,"
                     " description text, external_id text) ON COMMIT DROP")
        with conn.cursor().copy("COPY bank_import_rows FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM api.import_staged(%s, 'statement.csv', NULL, TRUE)", (CHECKING,)).fetchone()


def test_a_staged_batch_finds_the_duplicates_of_the_first_by_bank_id_and_fingerprint(
        dbs: Pair, imported: dict, today: date) -> None:
    this = str(today.replace(day=1))
    rows = [
        (2, this, "-12.00", "Blue Bottle Coffee", "B-1"),  # a bank id the account holds
        (3, this, "-45.1", "corner   MARKET", None),  # a fingerprint it holds once
        (4, this, "-2.75", "Bus ticket", None),  # held twice: the first two are duplicates
        (5, this, "-2.75", "bus ticket", None),
        (6, this, "-2.75", "BUS TICKET", None),
        (7, this, "-4.20", "Bakery", None),
        (8, "2025-02-30", "-1", "No such day", None),
    ]
    single, citus = [staged(c, rows) for c in dbs]
    assert summary(citus) == summary(single)
    assert (single["inserted_count"], single["duplicate_count"], single["rejected_count"]) == (2, 4, 1)
    assert [r[2] for r in batch_rows(dbs, (single["id"], citus["id"]))] == ["BUS TICKET", "Bakery"]
    assert_verified(dbs, ADA)


def test_all_or_none_refuses_the_batch_on_both_and_writes_nothing(dbs: Pair, imported: dict, today: date) -> None:
    def refused(conninfo: str) -> tuple:
        with pytest.raises(psycopg.Error) as caught:
            import_json(conninfo, [{"txn_date": str(today), "amount": "-1", "description": "Fine"},
                                   {"txn_date": str(today), "amount": "x", "description": "Bad"}], partial=False)
        count = fetch(conninfo, "SELECT count(*) FROM bank.import_batches WHERE user_id = %s", (ADA,))
        return caught.value.sqlstate, caught.value.diag.message_primary, caught.value.diag.message_detail, count
    batches = dbs.each(lambda c: fetch(c, "SELECT count(*) FROM bank.import_batches WHERE user_id = %s", (ADA,)))
    sqlstate, message, detail, count = dbs.each(refused)
    assert (sqlstate, count) == ("BKIM1", batches)
    assert message.startswith("import refused: 1 of 2 rows rejected, nothing imported (all or none); first: row 2: ")
    assert [(r["row"], r["rule"], r["value"]) for r in json.loads(detail)] == [(2, "import_amount_format", "x")]


def test_many_imports_and_undos_in_one_session(dbs: Pair, today: date) -> None:
    """More calls than PostgreSQL makes custom plans for before it tries a generic one (5)."""
    def work(conninfo: str) -> list[tuple]:
        done = []
        with psycopg.connect(conninfo) as conn:
            conn.execute("SET ROLE bank_app")
            for n in range(7):
                conn.execute("SELECT api.set_user(%s)", (ADA,))
                batch = conn.cursor(row_factory=dict_row).execute(
                    "SELECT * FROM api.import_transactions(%s, %s, 'loop')",
                    (SAVINGS, Jsonb([{"txn_date": str(today), "amount": f"-{n + 1}", "description": f"Coffee {n}"},
                                     {"txn_date": str(today), "amount": "1", "description": "Interest",
                                      "external_id": f"I-{n}"}])),
                ).fetchone()
                conn.commit()
                done.append((batch["inserted_count"], batch["duplicate_count"]))
            conn.execute("SELECT api.set_user(%s)", (ADA,))
            batches = conn.execute("SELECT id FROM bank.import_batches WHERE source = 'loop' ORDER BY id").fetchall()
            assert len(batches) == 7
            conn.commit()
            for batch_id, in batches:
                conn.execute("SELECT api.set_user(%s)", (ADA,))
                conn.execute("SELECT api.undo_import(%s)", (batch_id,))
                conn.commit()
        return done
    assert dbs.each(work) == [(2, 0)] * 7
    assert dbs.each(lambda c: fetch(c, "SELECT count(*) FROM bank.transactions WHERE user_id = %s"
                                    " AND description IN ('Interest', 'Coffee 0')", (ADA,))) == [(0,)]
    assert_verified(dbs, ADA)


def test_undoing_the_first_batch_takes_its_rows_and_totals_back(dbs: Pair, imported: dict, today: date) -> None:
    single, citus = imported["batches"]

    def undo(conninfo: str) -> tuple:
        batch_id = single["id"] if conninfo == dbs.single else citus["id"]
        with acting(conninfo, ADA) as conn:
            undone = conn.cursor(row_factory=dict_row).execute(
                "SELECT * FROM api.undo_import(%s)", (batch_id,)).fetchone()
        left = fetch(conninfo, "SELECT count(*) FROM bank.transactions WHERE user_id = %s AND import_batch_id = %s",
                     (ADA, batch_id))
        return summary(undone), left
    assert dbs.each(undo) == (summary(single), [(0,)])
    after = derived(dbs)
    before = imported["before"]
    # What stays is the staged batch: BUS TICKET 2.75 and Bakery 4.20 this month, uncategorized (Other).
    this = today.replace(day=1)
    expected = {(m, c): (s, i, n) for m, c, s, i, n in before["monthly_totals"]}
    spending, income, count = expected.get((this, "Other"), (Decimal("0"), Decimal("0"), 0))
    expected[(this, "Other")] = (spending + Decimal("6.95"), income, count + 2)
    assert after["monthly_totals"] == sorted((m, c, *v) for (m, c), v in expected.items())
    assert after["budgets"] == before["budgets"]
    assert after["external_ids"] == before["external_ids"] == []
    assert_verified(dbs, ADA)


# -- bankdb import against the coordinator ------------------------------------------------------------------

US = ["--date", "Transaction Date", "--date-format", "%m/%d/%Y", "--debit", "Debit", "--credit", "Credit",
      "--id", "Transaction ID", "--category", "Category", "--posted-date", "Post Date"]


def test_bankdb_import_of_a_csv_statement_through_the_coordinator(dbs: Pair, server: Server) -> None:
    statement = REPO / "tests" / "fixtures" / "statements" / "checking-2025-03.csv"

    def run(conninfo: str) -> tuple:
        url = server.url(conninfo_to_dict(conninfo)["dbname"]) if conninfo == dbs.single else \
            "postgresql://{user}@{host}:{port}/{dbname}".format(**conninfo_to_dict(conninfo))
        result = bankdb("import", str(statement), "--user", str(ADA), "--account", str(SAVINGS), *US, "--partial",
                        url=url)
        again = bankdb("import", str(statement), "--user", str(ADA), "--account", str(SAVINGS), *US, "--partial",
                       url=url)
        rows = fetch(conninfo, "SELECT t.description, t.category, t.amount, t.txn_type::text, t.posted_date,"
                     " t.external_id FROM bank.transactions AS t JOIN bank.import_batches AS b"
                     " ON b.user_id = t.user_id AND b.id = t.import_batch_id"
                     " WHERE t.user_id = %s AND b.source = 'csv:checking-2025-03.csv' ORDER BY t.id", (ADA,))
        return (result.returncode, result.stdout.splitlines()[-1].split(": ")[-1], again.returncode,
                "import_batches_file_sha256_key" in again.stderr, rows)
    code, counts, again_code, named, rows = dbs.each(run)
    assert (code, counts, again_code, named) == (1, "4 inserted, 0 duplicate(s), 1 rejected.", 1, True)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("GREEN MARKET #112, SPRINGFIELD", "Groceries", Decimal("54.23")),
        ("BEAN THERE CAFE", "Entertainment", Decimal("3.75")),
        ('ACME CORP PAYROLL "DIRECT DEP"', None, Decimal("2450.00")),
        ("CHECK 1043", None, Decimal("1200.00")),
    ]
    assert_verified(dbs, ADA)


# -- a rule deleted while an import chooses it ------------------------------------------------------------


def test_a_rule_deleted_while_the_import_chooses_it_is_skipped(dbs: Pair, today: date) -> None:
    """The import locks the rules it chose (FOR KEY SHARE): it waits for a transaction deleting one, then chooses
    again without it (the next rule), where the INSERT would fail on the rule's foreign key (23503)."""
    def race(conninfo: str) -> list[tuple]:
        with acting(conninfo, ADA) as conn:
            top = conn.execute("INSERT INTO bank.category_rules (category, keyword_pattern, priority)"
                               " VALUES ('Transportation', 'tea', 9) RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO bank.category_rules (category, keyword_pattern, priority)"
                         " VALUES ('Groceries', 'tea', 8)")
        deleter = psycopg.connect(conninfo)
        importer = psycopg.connect(conninfo)
        try:
            deleter.execute("SET ROLE bank_app")
            deleter.execute("SELECT api.set_user(%s)", (ADA,))
            deleter.execute("DELETE FROM bank.category_rules WHERE user_id = %s AND id = %s", (ADA, top))
            blocker = deleter.execute("SELECT pg_backend_pid()").fetchone()[0]
            importer.execute("SET ROLE bank_app")
            importer.execute("SELECT api.set_user(%s)", (ADA,))
            outcome: list = []

            def run() -> None:
                try:
                    outcome.append(importer.execute(
                        "SELECT inserted_count FROM api.import_transactions(%s, %s, 'race')",
                        (CHECKING, Jsonb([{"txn_date": str(today), "amount": "-3", "description": "Green tea"}])),
                    ).fetchone())
                    importer.commit()
                except psycopg.Error as exc:
                    outcome.append((exc.sqlstate, exc.diag.message_primary))
            thread = threading.Thread(target=run)
            thread.start()
            wait_until_blocked(conninfo, blocker)
            deleter.commit()
            thread.join()
        finally:
            deleter.close()
            importer.close()
        return outcome + fetch(conninfo, "SELECT t.category, r.priority FROM bank.transactions AS t"
                               " JOIN bank.category_rules AS r ON r.user_id = t.user_id AND r.id = t.category_rule_id"
                               " WHERE t.user_id = %s AND t.description = 'Green tea'", (ADA,))
    assert dbs.each(race) == [(1,), ("Groceries", 8)]
    assert_verified(dbs, ADA)


def test_two_imports_of_one_file_into_one_account_take_turns(dbs: Pair, today: date) -> None:
    """The second waits for the first (on Citus, for its advisory lock on the node holding the account's shard),
    then finds every row a duplicate."""
    rows = [{"txn_date": str(today), "amount": "-7.25", "description": "Same file"},
            {"txn_date": str(today), "amount": "-8.50", "description": "Same file", "external_id": "S-1"}]

    def race(conninfo: str) -> list[tuple]:
        first = psycopg.connect(conninfo)
        second = psycopg.connect(conninfo)
        try:
            for conn in (first, second):
                conn.execute("SET ROLE bank_app")
                conn.execute("SELECT api.set_user(%s)", (ADA,))
            done = [first.execute("SELECT inserted_count, duplicate_count FROM api.import_transactions(%s, %s, 'a')",
                                  (CHECKING, Jsonb(rows))).fetchone()]
            thread = threading.Thread(target=lambda: (done.append(second.execute(
                "SELECT inserted_count, duplicate_count FROM api.import_transactions(%s, %s, 'b')",
                (CHECKING, Jsonb(rows))).fetchone()), second.commit()))
            thread.start()
            wait_for_advisory_lock(conninfo)
            first.commit()
            thread.join()
        finally:
            first.close()
            second.close()
        return done
    assert dbs.each(race) == [(2, 0), (0, 2)]
    assert_verified(dbs, ADA)


def wait_for_advisory_lock(conninfo: str) -> None:
    """Until a session of this database waits for an advisory lock, on any node."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        citus = conn.execute("SELECT count(*) > 0 FROM pg_extension WHERE extname = 'citus'").fetchone()[0]
        waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                   " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        query = (f"SELECT coalesce(sum(result::bigint), 0) > 0 FROM run_command_on_all_nodes($${waiting}$$)"
                 if citus else f"SELECT ({waiting}) > 0")
        for _ in range(1000):
            if conn.execute(query).fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no import waited for the advisory lock")


def wait_until_blocked(conninfo: str, blocker: int) -> None:
    """Until a session waits for a lock that the session of backend pid `blocker` holds (on one server), or for a
    lock held by that session's transaction on any node (Citus: citus_lock_waits, by global pid)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        citus = conn.execute("SELECT count(*) > 0 FROM pg_extension WHERE extname = 'citus'").fetchone()[0]
        query = (
            "SELECT count(*) > 0 FROM citus_lock_waits WHERE blocking_gpid ="
            " (SELECT global_pid FROM citus_stat_activity WHERE pid = %s AND is_worker_query IS FALSE LIMIT 1)"
            if citus else
            "SELECT count(*) > 0 FROM pg_stat_activity AS a WHERE a.wait_event_type = 'Lock'"
            " AND %s = ANY (pg_blocking_pids(a.pid))"
        )
        for _ in range(1000):
            if conn.execute(query, (blocker,)).fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"no session waited for backend {blocker}")
