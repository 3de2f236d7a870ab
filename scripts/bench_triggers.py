#!/usr/bin/env python3
"""Throughput of one bulk INSERT into bank.transactions with bankdb's triggers, and without them.

Both runs insert the same rows in one statement into an emptied table; "without" disables the
user triggers of bank.transactions (categorization, conversion, totals, scale check) and supplies
fx_rate and base_amount itself; foreign keys stay on in both. Runs alternate, the median counts.
After each run with triggers the totals are verified against the raw rows.

    .venv/bin/python scripts/bench_triggers.py [--rows 100000] [--repeat 3]

It works in a scratch database it creates on the target server (DATABASE_URL, PG*, or the
embedded server, as for bankdb) and drops afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bankdb import migrator, seed  # noqa: E402
from bankdb.settings import Project, default_project_dir, resolve_target  # noqa: E402

INSERT = """
INSERT INTO bank.transactions (
    user_id, account_id, description, category, amount, currency, txn_type, txn_date, fx_rate, base_amount
)
SELECT %(user)s, %(account)s, 'Bulk import', (ARRAY['Groceries', 'Shopping', 'Salary', NULL])[1 + g %% 4],
       (g %% 9973) / 100.0 + 0.01, 'USD', (ARRAY['debit', 'debit', 'credit'])[1 + g %% 3]::bank.txn_type,
       DATE '2025-01-01' + (g %% 365), 1, (g %% 9973) / 100.0 + 0.01
FROM generate_series(1, %(rows)s) AS g
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per INSERT (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (default 3)")
    args = parser.parse_args()

    project = Project(default_project_dir())
    target = resolve_target(project)
    if target.embedded:
        project.embedded.start()
    admin = make_conninfo(target.conninfo, dbname="postgres") if target.conninfo else "dbname=postgres"
    scratch = f"bankdb_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    conninfo = make_conninfo(target.conninfo or "", dbname=scratch)
    try:
        print(f"Preparing {scratch} on {conninfo_to_dict(conninfo).get('host') or 'the default host'}...", flush=True)
        migrator.migrate(project, conninfo, out=lambda _: None)
        seed.seed(project, conninfo, out=lambda _: None)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SELECT bank.create_transaction_partitions('2025-01-01', '2025-12-31')")
            user = conn.execute(
                "INSERT INTO bank.users (name, email, password) VALUES ('Bench', 'bench@example.com', %s) RETURNING id",
                ("$2b$12$" + "B" * 53,),
            ).fetchone()[0]
            account = conn.execute(
                "INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency)"
                " VALUES (%s, 'Bench', 'checking', '****0000', 'USD') RETURNING id",
                (user,),
            ).fetchone()[0]
            params = {"user": user, "account": account, "rows": args.rows}
            timings: dict[str, list[float]] = {"with triggers": [], "triggers disabled": []}
            for run in range(args.repeat):
                for kind in timings:
                    conn.execute("TRUNCATE bank.transactions")
                    conn.execute("DELETE FROM bank.monthly_totals")
                    conn.execute("VACUUM ANALYZE bank.transactions")
                    toggle = "ENABLE" if kind == "with triggers" else "DISABLE"
                    conn.execute(f"ALTER TABLE bank.transactions {toggle} TRIGGER USER")
                    started = time.perf_counter()
                    conn.execute(INSERT, params)
                    timings[kind].append(time.perf_counter() - started)
                    if kind == "with triggers":
                        drift = conn.execute("SELECT count(*) FROM bank.verify_totals()").fetchone()[0]
                        if drift:
                            print(f"totals drifted after run {run + 1}: {drift} rows", file=sys.stderr)
                            return 1
                    print(f"  run {run + 1}/{args.repeat} {kind}: {timings[kind][-1]:.2f} s", flush=True)
            conn.execute("ALTER TABLE bank.transactions ENABLE TRIGGER USER")
        rates = {kind: args.rows / statistics.median(t) for kind, t in timings.items()}
        print()
        print(f"| one INSERT of {args.rows:,} rows | rows/s (median of {args.repeat}) |")
        print("|---|---|")
        for kind, rate in rates.items():
            print(f"| {kind} | {rate:,.0f} |")
        print(f"| ratio with / disabled | {rates['with triggers'] / rates['triggers disabled']:.2f} |")
        print("\nTotals verified exact after every run with triggers.")
        return 0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
