"""PgBouncer in transaction mode: many clients acting for different users share a few server
connections, and none ever sees another user's rows, nor a user left over from another client."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import psycopg
import pytest

from bankdb import migrator, seed
from bankdb.server import SERVICE_USER, TRUST_LOOPBACK, free_port, give_to_service_user

from ..conftest import PROJECT
from ..helpers import in_parallel

CLIENTS, ROUNDS, POOL = 12, 25, 3


@pytest.fixture
def bouncer(spawn):
    if shutil.which("pgbouncer") is None:
        pytest.skip("Debian's pgbouncer is not installed (.ci/run installs it)")
    server = spawn()
    server.start(hba=TRUST_LOOPBACK)
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bankdb")
    migrator.migrate(PROJECT, server.conninfo("bankdb"), out=lambda _: None)
    seed.seed(PROJECT, server.conninfo("bankdb"), out=lambda _: None)
    with psycopg.connect(server.conninfo("bankdb"), autocommit=True) as conn:
        conn.execute("CREATE ROLE dashboard_api LOGIN IN ROLE bank_app")
        conn.execute("SELECT bank.create_transaction_partitions(current_date - 10, current_date)")
        users = []
        for i in range(CLIENTS):
            user = conn.execute(
                "INSERT INTO bank.users (name, email, password) VALUES (%s, %s, %s) RETURNING id",
                (f"Pooled {i}", f"pooled{i}@example.com", "$2b$12$" + "P" * 53),
            ).fetchone()[0]
            account = conn.execute(
                "INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency)"
                " VALUES (%s, 'Bank', 'checking', '****0001', 'USD') RETURNING id", (user,),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date)"
                " SELECT %s, %s, 'Mine', g, 'USD', 'debit', current_date - g FROM generate_series(1, 5) AS g",
                (user, account),
            )
            users.append(user)
    folder = server.home / "pgbouncer"  # where the service user may go (not pytest's private tmp)
    folder.mkdir()
    port = free_port()
    (folder / "userlist.txt").write_text('"dashboard_api" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
bankdb = host=127.0.0.1 port={server.port} dbname=bankdb

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
default_pool_size = {POOL}
max_client_conn = 100
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    give_to_service_user(folder, *folder.iterdir())  # PgBouncer will not run as root
    process = subprocess.Popen(
        ["pgbouncer", str(folder / "pgbouncer.ini")], user=SERVICE_USER if os.geteuid() == 0 else None,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    yield f"host=127.0.0.1 port={port} dbname=bankdb user=dashboard_api", server, users
    process.terminate()
    process.wait(10)


def test_clients_over_a_transaction_pool_never_see_another_users_rows(bouncer) -> None:
    through_pool, server, users = bouncer
    problems: list[str] = []
    done = []

    def client(user: int) -> None:
        # No server-side prepared statements: a transaction pool hands each transaction to any server.
        with psycopg.connect(through_pool, autocommit=True, prepare_threshold=None) as conn:
            for _ in range(ROUNDS):
                with conn.transaction():
                    conn.execute("SELECT api.set_user(%s)", (user,))
                    seen = conn.execute("SELECT DISTINCT user_id FROM api.recent_transactions").fetchall()
                    if seen != [(user,)]:
                        problems.append(f"client of user {user} saw {seen}")
                with conn.transaction():  # no api.set_user: nothing may carry over from another client
                    leftover = conn.execute("SELECT api.current_user_id(), count(*) FROM bank.accounts").fetchone()
                    if leftover != (None, 0):
                        problems.append(f"client of user {user} inherited {leftover}")
                done.append(user)

    assert in_parallel(client, users) == []
    assert problems == []
    assert len(done) == CLIENTS * ROUNDS
    with psycopg.connect(server.conninfo("bankdb")) as conn:
        connections = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'dashboard_api'").fetchone()[0]
    assert 0 < connections <= POOL  # twelve clients shared at most three server connections


def test_an_identity_written_for_the_session_does_not_reach_the_next_client(bouncer) -> None:
    """An application that writes app.user_id for the whole session, even with api.set_user's own
    value, leaves nothing behind: the next client on that server connection acts for nobody."""
    through_pool, _, users = bouncer
    with psycopg.connect(through_pool, autocommit=True, prepare_threshold=None) as first:
        with first.transaction():
            first.execute("SELECT api.set_user(%s)", (users[0],))
            first.execute("SELECT set_config('app.user_id', current_setting('app.user_id'), FALSE)")
            backend = first.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(through_pool, autocommit=True, prepare_threshold=None) as second:
        with second.transaction():
            # PgBouncer hands out the server connection used last: the one the first client left.
            row = second.execute(
                "SELECT pg_backend_pid(), current_setting('app.user_id') <> '', api.current_user_id(),"
                " (SELECT count(*) FROM api.recent_transactions)"
            ).fetchone()
    assert row == (backend, True, None, 0)
