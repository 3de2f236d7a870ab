"""The soak test (scripts/soak.py): its checker fails when a write is lost, a total drifts, a row
leaks or an op is half-done; and a short soak, clients through PgBouncer with the server killed in
the middle, loses nothing.

The short form starts its own embedded PostgreSQL 18 (from the wheel), because it SIGKILLs it: it
runs when the session's server is the embedded one (no BANKDB_TEST_DATABASE_URL), and is skipped on
the pass against another server (CI's PostgreSQL 15), which a test may not kill. The checker's tests
run on every server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from soak import check, client, ledger, world  # noqa: E402  (scripts/soak/)


@pytest.fixture
def soak(db: str):
    """A migrated database with the soak's users, and a client acting through bank_app (the
    superuser's session with role bank_app: row-level security applies) that has written one of
    each kind of write; returns (world, client, app conninfo)."""
    made = world.make(db, users=3, hot=1, months=2)
    app = make_conninfo(**{**conninfo_to_dict(db), "options": "-c role=bank_app"})
    writer = client.Client(0, made, app, threading.Event(), seed=7)
    assert writer.connect(give_up=10)
    user = made.hot[0]
    for _ in range(6):
        writer.op_insert(user)
    for name in ("import", "transfer", "bill", "budget", "reward", "rule", "move", "category", "delete"):
        writer.ops[name](user)
    writer.op_read(user)
    assert [op.status for op in writer.ledger.ops] == [ledger.ACKED] * len(writer.ledger.ops)
    assert writer.stats.problems == []
    yield made, writer, app
    writer.conn.close()


def checked(soak, db: str) -> check.CheckResult:
    made, writer, app = soak
    return check.check(made, [writer.ledger], app, db)


def test_the_checker_passes_what_the_ledger_says(soak, db: str) -> None:
    _, writer, _ = soak
    result = checked(soak, db)
    assert result.problems == []
    assert result.reason() == "no lost write, no drift, no leak"
    effects = [e for op in writer.ledger.ops for e in op.effects]
    written = sum(isinstance(e, ledger.NewTxn) for e in effects) - sum(isinstance(e, ledger.DelTxn) for e in effects)
    assert result.counts["transactions"] == written and result.counts["batches"] == 1


def test_the_checker_reports_an_acknowledged_write_deleted_behind_its_back(soak, db: str) -> None:
    _, writer, _ = soak
    description = next(e.description for op in writer.ledger.ops if op.name == "insert" for e in op.effects)
    with psycopg.connect(db, autocommit=True) as conn:  # the triggers keep the totals right: only the ledger knows
        assert conn.execute("DELETE FROM bank.transactions WHERE description = %s", (description,)).rowcount == 1
    result = checked(soak, db)
    lost, *rest = result.problems
    assert str(lost).startswith(f"lost: transaction {description!r} of user ") and str(lost).endswith("is not there")
    # Its month's totals follow the raw rows (bank.verify_totals() is empty), not the ledger: the views disagree.
    assert rest and all(str(p).startswith("drift: api.") for p in rest)
    assert result.reason() == f"{lost} (1 lost, {len(rest)} drift)"


def test_the_checker_reports_a_total_that_drifted(soak, db: str) -> None:
    made, _, _ = soak
    with psycopg.connect(db, autocommit=True) as conn:
        month, category = conn.execute(
            "UPDATE bank.monthly_totals SET spending = spending + 1 WHERE user_id = %s AND txn_count > 0 "
            "AND ctid = (SELECT min(ctid) FROM bank.monthly_totals WHERE user_id = %s AND txn_count > 0) "
            "RETURNING month, category", (made.hot[0], made.hot[0])).fetchone()
    result = checked(soak, db)
    texts = [str(p) for p in result.problems]
    assert {p.kind for p in result.problems} == {"drift"}
    assert any(t.startswith(f"drift: bank.verify_totals(): monthly_totals.spending of user {made.hot[0]}, "
                            f"{month:%Y-%m} {category}") for t in texts)
    assert any(t.startswith(f"drift: api.monthly_spending for user {made.hot[0]}, ({month!r}, {category!r})")
               for t in texts)


def test_the_checker_reports_a_write_whose_op_failed(soak, db: str) -> None:
    made, writer, _ = soak
    op = next(op for op in writer.ledger.ops if op.name == "reward")
    op.status = ledger.FAILED  # the ledger says refused, yet the row is there
    result = checked(soak, db)
    assert [str(p) for p in result.problems if p.kind == "unacknowledged"] == [
        f"unacknowledged: reward entry {op.effects[0].description!r} is there; its op: {op.label()}"]


def test_the_checker_resolves_an_unknown_outcome_all_or_nothing(soak, db: str) -> None:
    _, writer, _ = soak
    op = next(op for op in writer.ledger.ops if op.name == "transfer")  # rows no later op touched
    op.status = ledger.UNKNOWN  # the connection was lost while its COMMIT was in flight; it committed
    result = checked(soak, db)
    assert result.problems == [] and result.resolved == {"committed": 1}
    debit = op.effects[0].description
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DELETE FROM bank.transactions WHERE description = %s", (debit,))
    result = checked(soak, db)
    assert [p.kind for p in result.problems] == ["half-done", "lost", "drift"]
    assert str(result.problems[2]).startswith(f"drift: api.recent_transactions for user {op.user}, {debit!r}: ")
    assert str(result.problems[0]) == (f"half-done: {op.label()}: part of what it wrote is there, part is not "
                                       "(NewTxn False, NewTxn True, Transfer None)")


def test_the_checker_reports_a_row_of_another_user(soak, db: str) -> None:
    made, _, _ = soak
    with psycopg.connect(db, autocommit=True) as conn:  # a policy that lets bank_app read every bill
        conn.execute("CREATE POLICY leak ON bank.bills FOR SELECT TO bank_app USING (true)")
        bills = conn.execute("SELECT count(*) FROM bank.bills WHERE status <> 'paid'").fetchone()[0]
    result = checked(soak, db)
    leaks = [str(p) for p in result.problems if p.kind == "leak"]
    assert f"leak: api.upcoming_bills answered {bills} row(s) with no acting user" in leaks
    for user in made.ids():
        others = sorted(set(made.ids()) - {user})
        assert f"leak: api.upcoming_bills acting for user {user} answered rows of users {others}" in leaks


def test_an_unknown_op_is_not_touched_again(soak) -> None:
    """After a lost COMMIT the client leaves the rows that op changed alone: their state is the
    checker's to resolve, and only the two states before and after are accepted."""
    made, writer, _ = soak
    user = made.hot[0]
    row = writer.rows[user].choice(writer.rng)
    effect = ledger.SetTxn(user, row.description, "txn_date", row.txn_date, row.txn_date)
    writer.taint([effect])
    assert row.description not in writer.rows[user].rows


@pytest.mark.skipif(bool(os.environ.get("BANKDB_TEST_DATABASE_URL")),
                    reason="the short soak SIGKILLs a server of its own, the embedded PostgreSQL 18: it runs on the "
                           "embedded-server pass only")
def test_a_short_soak_with_a_crash_loses_nothing(tmp_path) -> None:
    if shutil.which("pgbouncer") is None:
        pytest.skip("Debian's pgbouncer is not installed (.ci/run installs it)")
    out = tmp_path / "soak.json"
    # With the default --clear-share (15% of category changes clear it by hand, for
    # api.apply_category_rules to set again): findings 1 and 2 of docs/benchmark/soak.md are fixed,
    # and any 23503 on a rule's key, or a category set by hand that a rule overwrote, fails the run.
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "soak.py"), "--duration", "30", "--clients", "8", "--users", "12",
         "--hot", "3", "--faults", "crash", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "soak: passed: no lost write, no drift, no leak"
    report = json.loads(out.read_text())
    assert report["passed"] and report["check"]["problems"] == []
    (crash,) = report["faults"]
    assert crash["name"] == "crash" and crash["ok"], crash
    assert crash["details"]["window_errors"], "the crash cut no client off"
    assert crash["details"]["writes_again_after_seconds"] is not None
    writes = report["summary"]["transactions"] - report["summary"]["ops"]["read"]["acknowledged"]
    assert writes > 200 and report["check"]["counts"]["transactions"] > 100

