"""A streaming replica made with pg_basebackup -R: it follows the primary, serves the api views under
row-level security, reports its lag, and can be promoted."""

from __future__ import annotations

import time

import psycopg

from bankdb import migrator, seed
from bankdb.server import TRUST_LOOPBACK, EmbeddedServer, give_to_service_user

from ..conftest import PROJECT


def until(condition, timeout: float = 30.0, step: float = 0.05) -> float:
    """Poll until condition() is true; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true after {timeout}s")
        time.sleep(step)
    return time.monotonic() - started


def make_standby(primary: EmbeddedServer, standby: EmbeddedServer) -> None:
    standby.home.mkdir(parents=True, exist_ok=True)
    give_to_service_user(standby.home)
    result = standby.run_as_owner(
        [standby.bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
         "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"],
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr


def test_a_standby_follows_serves_the_views_under_rls_and_can_be_promoted(spawn) -> None:
    primary = spawn()
    primary.start({"wal_level": "replica", "max_wal_senders": "5"}, hba=TRUST_LOOPBACK)
    with psycopg.connect(primary.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bankdb")
    migrator.migrate(PROJECT, primary.conninfo("bankdb"), out=lambda _: None)
    seed.seed(PROJECT, primary.conninfo("bankdb"), demo=True, out=lambda _: None)

    standby = spawn()
    make_standby(primary, standby)
    standby.start(hba=TRUST_LOOPBACK)

    with psycopg.connect(primary.conninfo("bankdb"), autocommit=True) as conn:
        ada, account = conn.execute(
            "SELECT u.id, a.id FROM bank.users AS u JOIN bank.accounts AS a ON a.user_id = u.id"
            " WHERE u.email = 'ada@demo.bankdb.test' AND a.account_type = 'checking'"
        ).fetchone()
        conn.execute(
            "INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date)"
            " VALUES (%s, %s, 'Written on the primary', 12.34, 'USD', 'debit', current_date)", (ada, account),
        )
        # Until the standby's first status report, its replay position (and so the lag) is NULL.
        until(lambda: conn.execute(
            "SELECT count(*) FROM monitor.replication_lag WHERE lag_bytes IS NOT NULL"
        ).fetchone()[0] == 1)
        role, lag_bytes = conn.execute("SELECT server_role, lag_bytes FROM monitor.replication_lag").fetchone()
        assert role == "primary" and lag_bytes >= 0

    with psycopg.connect(standby.conninfo("bankdb"), autocommit=True) as replica:
        seconds = until(lambda: replica.execute(
            "SELECT count(*) FROM bank.transactions WHERE description = 'Written on the primary'"
        ).fetchone()[0] == 1)
        print(f"replicated in {seconds:.3f}s")
        assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        assert replica.execute("SELECT server_role FROM monitor.replication_lag").fetchone()[0] == "standby"
        with replica.transaction():
            replica.execute("SELECT api.set_user(%s)", (ada,))
            replica.execute("SET LOCAL ROLE bank_readonly")
            owners = replica.execute("SELECT DISTINCT user_id FROM api.recent_transactions").fetchall()
            mine = replica.execute(
                "SELECT count(*) FROM api.recent_transactions WHERE description = 'Written on the primary'"
            ).fetchone()[0]
        assert owners == [(ada,)] and mine == 1

        replica.execute("SELECT pg_promote()")
        until(lambda: replica.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0])
        replica.execute("UPDATE bank.bills SET auto_pay = TRUE WHERE user_id = %s", (ada,))  # writable now
