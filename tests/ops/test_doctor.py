"""bankdb doctor finds each problem a test plants; bankdb maintain does the periodic work."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from bankdb import doctor

from ..helpers import add_txn, make_account, make_user

EVERYTHING = doctor.Limits(unused_index_min_bytes=1 << 40)  # no index is that big: unused ones don't count


def maintained(db: str) -> psycopg.Connection:
    conn = psycopg.connect(db, autocommit=True)
    conn.execute("SELECT * FROM bank.run_maintenance()")
    return conn


def test_a_maintained_database_is_healthy(db: str) -> None:
    with maintained(db):
        assert doctor.examine(db, EVERYTHING) == {name: [] for name, _ in doctor.CHECKS}


def plant_revoked_connect(conn: psycopg.Connection) -> None:
    # What DROP OWNED BY in another database's V005 rollback used to do to this one.
    database = conn.execute("SELECT quote_ident(current_database())").fetchone()[0]
    conn.execute(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
    conn.execute(f"GRANT CONNECT ON DATABASE {database} TO bank_migrator, bank_admin, bank_readonly, bank_backup")


def plant_orphan(conn: psycopg.Connection) -> None:
    user = make_user(conn, "o@example.com")
    account = make_account(conn, user["id"])
    add_txn(conn, account, "1.00")
    conn.execute("SET session_replication_role = replica")  # a load with triggers, and so foreign keys, off
    conn.execute("DELETE FROM bank.accounts WHERE id = %s", (account["id"],))
    conn.execute("SET session_replication_role = origin")


def plant_unvalidated(conn: psycopg.Connection) -> None:
    conn.execute("ALTER TABLE bank.bills ADD CONSTRAINT bills_biller_name_short CHECK (length(biller_name) < 50) NOT VALID")


def plant_drift(conn: psycopg.Connection) -> None:
    add_txn(conn, make_account(conn, make_user(conn, "d@example.com")["id"]), "5.00", category="Groceries")
    conn.execute("UPDATE bank.monthly_totals SET spending = spending + 1")


def plant_missing_partition(conn: psycopg.Connection) -> None:
    next_month = (datetime.date.today().replace(day=1) + datetime.timedelta(days=32)).strftime("%Y_%m")
    conn.execute(f"DROP TABLE bank_partitions.transactions_{next_month}")


def plant_default_partition(conn: psycopg.Connection) -> None:
    conn.execute("SET ROLE bank_owner")  # as a migration would make it
    conn.execute("CREATE TABLE bank_partitions.transactions_default PARTITION OF bank.transactions DEFAULT")
    conn.execute("RESET ROLE")
    add_txn(conn, make_account(conn, make_user(conn, "p@example.com")["id"]), "1.00", txn_date="2031-05-05")


def plant_unused_index(conn: psycopg.Connection) -> None:
    conn.execute("CREATE INDEX transactions_description_idx ON bank.transactions (description)")


def plant_bloat(conn: psycopg.Connection) -> None:
    conn.execute("ALTER TABLE bank.alerts SET (autovacuum_enabled = false)")
    user = make_user(conn, "b@example.com")
    conn.execute(
        "INSERT INTO bank.alerts (user_id, type, message) SELECT %s, 'bill_due', 'x' FROM generate_series(1, 3000)",
        (user["id"],),
    )
    conn.execute("DELETE FROM bank.alerts WHERE id % 3 <> 0")
    conn.execute("SELECT pg_stat_force_next_flush()")


@pytest.mark.parametrize(
    ("check", "plant", "limits", "expected"),
    [
        ("bank roles may connect", plant_revoked_connect, EVERYTHING,
         "bank_app has no CONNECT on database bankdb_test_"),
        ("orphaned rows", plant_orphan, EVERYTHING,
         "1 row(s) of bank.transactions point nowhere (transactions_user_id_account_id_fkey -> bank.accounts)"),
        ("constraints not validated", plant_unvalidated, EVERYTHING,
         "bank.bills: constraint bills_biller_name_short is NOT VALID: "
         "run ALTER TABLE bank.bills VALIDATE CONSTRAINT bills_biller_name_short"),
        ("derived totals against raw rows", plant_drift, EVERYTHING,
         "1 derived total(s) drifted: repair with SELECT bank.rebuild_totals()"),
        ("partitions ahead", plant_missing_partition, EVERYTHING, "no partition of bank.transactions for {next}"),
        ("default partition", plant_default_partition, EVERYTHING,
         "bank_partitions.transactions_default is a default partition holding 1 row(s): it can block new months; "
         "create the monthly partitions and move its rows into them"),
        ("unused indexes", plant_unused_index, doctor.Limits(unused_index_min_bytes=0),
         "_description_idx on transactions_"),  # reported per partition
        ("bloat", plant_bloat, EVERYTHING, "bank.alerts: 2000 dead rows, 66.7% of the table: VACUUM it"),
    ],
)
def test_the_doctor_finds_a_planted_problem(
    db: str, check: str, plant: Callable, limits: doctor.Limits, expected: str
) -> None:
    with maintained(db) as conn:
        plant(conn)
    report = doctor.examine(db, limits)
    next_month = (datetime.date.today().replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")
    assert any(expected.format(next=next_month) in p for p in report[check]), report[check]
    if check == "bank roles may connect":
        assert len(report[check]) == 1 and report[check][0].endswith(
            ": every login in it is refused; run GRANT CONNECT ON DATABASE "
            + conninfo_to_dict(db)["dbname"] + " TO bank_app"
        ), report[check]
    if check != "unused indexes":  # with no size limit, the fresh database's other indexes count too
        assert [name for name, problems in report.items() if problems] == [check]


def test_maintain_creates_the_partitions_ahead_and_sweeps_bills(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "m@example.com")
        for days, name in ((-3, "late"), (2, "soon")):
            conn.execute(
                "INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency)"
                " VALUES (%s, %s, current_date + %s, 10, 'USD')", (user["id"], name, days),
            )
        done = dict(conn.execute("SELECT * FROM bank.run_maintenance(4)").fetchall())
        assert done["overdue bills"] == "1 marked overdue"
        assert done["bill-due alerts"] == "1 raised"
        last = (datetime.date.today().replace(day=15) + datetime.timedelta(days=4 * 31)).strftime("%Y_%m")
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"bank_partitions.transactions_{last}",)).fetchone()[0]
        again = dict(conn.execute("SELECT * FROM bank.run_maintenance(4)").fetchall())
        assert again["partitions"].startswith("0 created") and again["bill-due alerts"] == "0 raised"
        conn.execute(
            "INSERT INTO bank.alerts (user_id, type, message) SELECT %s, 'bill_due', 'x' FROM generate_series(1, 3000)",
            (user["id"],),
        )
        conn.execute("SELECT pg_stat_force_next_flush()")
        analyzed = [result for task, result in conn.execute("SELECT * FROM bank.run_maintenance(4)").fetchall()
                    if task == "analyze"]
        assert "bank.alerts" in analyzed
