#!/usr/bin/env python3
"""The soak test: many clients through PgBouncer for a long time, with faults in the middle, and a
ledger of what the server acknowledged checked against what it holds at the end.

It starts its own PostgreSQL (the embedded PostgreSQL 18, durable commits, on 127.0.0.1) or is given
one (--server), migrates a fresh database, makes --users users (checking and savings in USD, a card
in EUR for every third, rules, two monthly bills, a rewards program), and starts Debian's PgBouncer
in transaction mode in front of it. --clients threads then connect through PgBouncer as one login
that is a member of bank_app and act for a user per transaction (api.set_user): half of all
transactions for one of --hot hot users. The mix (scripts/soak/client.py, MIX) is a dashboard's:
60% reads of the api views; 40% writes: single inserts, imports of small batches, moves to another
month, category changes, deletes, two rows changed in one transaction, transfers linked by
api.link_transfer, bill payments, rule changes with api.apply_category_rules, budgets, reward
entries. Each client keeps a ledger: what
the server acknowledged (a COMMIT that returned), what it refused, what was in flight when the
connection broke. 40001 and 40P01 are retried.

--faults are done one after another in the middle of the run (scripts/soak/faults.py): crash
(SIGKILL of the server, restart, crash recovery), pgbouncer (restart), migrate (a changed function
while clients write, first behind a held lock with --lock-timeout 2s), timeout (statement_timeout
hitting an import), readonly (default_transaction_read_only on, then off). Then the checker
(scripts/soak/check.py): every acknowledged write there, nothing unacknowledged there, unknown ones
all-or-nothing, bank.verify_totals() empty, every user's api views equal to a reference computed
from the ledgers, no view answering another user's rows.

It prints throughput, p50/p99 latency, retries and errors by SQLSTATE per operation, and each
fault's result; --json and --markdown write them. Exit 0 when every check passed; 1 with one line
`soak: FAILED: <reason>` on any lost acknowledged write, drift, leak, unexpected error or fault
that did not behave as documented; 2 on bad options.

    .venv/bin/python scripts/soak.py --duration 60 --clients 16 --faults crash
    .venv/bin/python scripts/soak.py --duration 1500 --faults all --fault-cycles 3 \\
        --json docs/benchmark/soak.json --markdown docs/benchmark/soak.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak import check, report, world  # noqa: E402  (the package scripts/soak/)
from soak.client import MIX, Client  # noqa: E402
from soak.cluster import Cluster, ClusterError  # noqa: E402
from soak.faults import FAULTS, NEEDS_OWN_SERVER, Faults, window_report  # noqa: E402
from soak.ledger import Stats  # noqa: E402


def say(text: str) -> None:
    print(text, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=60, metavar="SECONDS", help="how long the clients run (60)")
    p.add_argument("--clients", type=int, default=16, help="client threads, each its own connection (16)")
    p.add_argument("--users", type=int, default=36, help="users the clients act for (36)")
    p.add_argument("--hot", type=int, default=4, help="hot users: half of all transactions act for one of them (4)")
    p.add_argument("--hot-share", type=float, default=0.5, help="the share of transactions for a hot user (0.5)")
    p.add_argument("--clear-share", type=float, default=0.15,
                   help="of the category changes, the share that clear the category by hand, which "
                        "api.apply_category_rules then sets again (0.15)")
    p.add_argument("--months", type=int, default=3, help="months the rows are dated in, up to today (3)")
    p.add_argument("--pool-size", type=int, default=8, help="PgBouncer's server connections (8)")
    p.add_argument("--faults", default="none",
                   help=f"comma-separated, in order: {', '.join(FAULTS)}; or all, or none (none)")
    p.add_argument("--fault-cycles", type=int, default=1, help="how many times the list of faults is done (1)")
    p.add_argument("--readonly-seconds", type=float, default=5, help="how long the server stays read-only (5)")
    p.add_argument("--seed", type=int, default=1, help="the clients' random seed (1)")
    p.add_argument("--server", metavar="URL",
                   help="a superuser URL of a running PostgreSQL 15+ to use instead of starting one (a database and "
                        "a login are made there and dropped after); crash and readonly need the soak's own server")
    p.add_argument("--json", type=Path, metavar="FILE", help="write every figure and the checker's problems here")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="write the report here (docs/benchmark/soak.md)")
    p.add_argument("--keep", action="store_true", help="keep the server's files (under .bankdb/) for inspection")
    p.add_argument("--render", nargs=2, type=Path, metavar=("JSON", "MARKDOWN"),
                   help="run nothing: write the report MARKDOWN again from a run's JSON (after editing findings.md)")
    args = p.parse_args(argv)
    names = FAULTS if args.faults == "all" else () if args.faults == "none" else tuple(args.faults.split(","))
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        p.error(f"--faults: no fault named {', '.join(unknown)} (known: {', '.join(FAULTS)})")
    if args.server and (refused := [n for n in names if n in NEEDS_OWN_SERVER]):
        p.error(f"--faults {','.join(refused)} need the soak's own server (it kills it, or sets ALTER SYSTEM): "
                "leave out --server")
    if args.clients < 1 or args.users < 1 or not 0 <= args.hot <= args.users or args.duration <= 0:
        p.error("--clients, --users and --duration must be positive, --hot at most --users")
    args.fault_list = list(names) * args.fault_cycles
    return args


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.system()} {platform.release()}, {cpus} CPU(s), Python {platform.python_version()}"


def pgbouncer_version() -> str:
    try:
        done = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True, timeout=10)
        return done.stdout.splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "PgBouncer"


def run(args: argparse.Namespace) -> int:
    (ROOT / ".bankdb").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / ".bankdb"))
    cluster = Cluster(ROOT, home, args.server, args.pool_size, out=say)
    started_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    try:
        say("Starting the server and PgBouncer, migrating a fresh database...")
        cluster.start()
        made = world.make(cluster.admin(), args.users, args.hot, args.months)
        say(f"{len(made.client_ids())} users ({len(made.hot)} hot), months {made.months[0]} to {made.today}; "
            f"{args.clients} clients through PgBouncer on port {cluster.bouncer_port} for {args.duration:g} s; "
            f"faults: {', '.join(args.fault_list) or 'none'}")

        stop = threading.Event()
        clients = [Client(i, made, cluster.app_pooled(), stop, args.seed, args.hot_share, args.clear_share) for i in range(args.clients)]
        # Two more ledgers, never stopped by `stop`: the fault thread's clients (through the pool, and straight).
        never = threading.Event()
        faulter = Client(args.clients, made, cluster.app_pooled(), never, args.seed)
        holder = Client(args.clients + 1, made, cluster.app_direct(), never, args.seed)
        t0 = time.monotonic()
        faults = Faults(cluster, faulter, holder, args.readonly_seconds, t0, out=say)
        threads = [threading.Thread(target=c.run, name=f"client-{c.index}", daemon=True) for c in clients]
        for thread in threads:
            thread.start()

        def do_faults() -> None:
            count = len(args.fault_list)
            for i, name in enumerate(args.fault_list):
                # Spread over the middle of the run: the first at 15%, the last at 80% of it.
                at = t0 + args.duration * (0.15 + (0.65 * i / (count - 1) if count > 1 else 0.3))
                time.sleep(max(0.0, at - time.monotonic()))
                faults.run(name)

        fault_thread = threading.Thread(target=do_faults, name="faults", daemon=True)
        fault_thread.start()
        progress = []  # (seconds, transactions acknowledged so far)
        while time.monotonic() < t0 + args.duration:
            time.sleep(min(10.0, t0 + args.duration - time.monotonic()))
            done = sum(sum(c.stats.ok.values()) for c in clients)
            progress.append((round(time.monotonic() - t0), done))
            say(f"  {progress[-1][0]:5d} s: {done:,} transactions acknowledged")
        fault_thread.join()  # a fault still going on finishes first (the server is back)
        stop.set()
        ended = time.monotonic()
        # A client waiting in PgBouncer for a server (or on a lock) is cancelled after a grace period.
        deadline = time.monotonic() + 60
        for thread in threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        for client, thread in zip(clients, threads):
            if thread.is_alive() and client.conn is not None:
                client.conn.cancel()
            thread.join(30)
        stuck = [t.name for t in threads if t.is_alive()]
        for client in (*clients, faulter, holder):
            if client.conn is not None:
                client.conn.close()
        seconds = ended - t0

        # The figures are the clients'; the fault thread's own ops (the held transaction, the timed-out
        # import, the writes refused while read-only) are in the faults' results.
        stats, extra = Stats(), Stats()
        for client in clients:
            stats.merge(client.stats)
        for client in (faulter, holder):
            extra.merge(client.stats)
        stats.problems.extend(extra.problems)
        stats.known.update(extra.known)
        ledgers = [c.ledger for c in (*clients, faulter, holder)]
        for result in faults.results:
            window_report(result, stats.events, stats.write_acks, ledgers)

        say("Checking what the server holds against the ledgers...")
        verdict = check.check(made, ledgers, cluster.app_direct(), cluster.admin())
        for text in stats.problems:
            kind, _, rest = text.partition(": ")
            verdict.add(kind if kind in check.KINDS else "error", rest or text)
        if stuck:
            verdict.add("error", f"client threads still running 90 s after the stop: {', '.join(stuck)}")
        for result in faults.results:
            if not result.ok:
                verdict.add("error", f"fault {result.name} did not behave as documented: {result.summary}")

        summary = report.summarize(stats, seconds)
        summary["per_second_over_time"] = report.over_time(progress)
        say("")
        say(report.table(summary))
        say(f"retries by SQLSTATE: {report.counts(summary['retries_by_sqlstate'])}; errors by SQLSTATE: "
            f"{report.counts(summary['errors_by_sqlstate'])}; unknown outcomes resolved: "
            f"{report.counts(verdict.resolved)}; errors of known findings: {report.counts(summary['known_findings'])}")
        for result in faults.results:
            d = result.details
            phases = "".join(f", {k.replace(': slowest write ms', '')}: slowest write {v} ms" for k, v in d.items()
                             if k.endswith("slowest write ms"))
            say(f"fault {result.name} at {result.start - t0:.0f} s: {'ok' if result.ok else 'FAILED'}: {result.summary}; "
                f"window errors {report.counts(d.get('window_errors', {}))}, unknown {d.get('window_unknown')}, "
                f"slowest write {report.fmt(d.get('window_max_write_ms'), ' ms')}{phases}, writes again after "
                f"{report.fmt(d.get('writes_again_after_seconds'), ' s')}")
        say(f"checked: {report.counts(verdict.counts)}; problems: {len(verdict.problems)}")
        for problem in verdict.problems[:20]:
            say(f"  {problem}")

        document = {
            "command": "scripts/soak.py " + shlex.join(sys.argv[1:]) if __name__ == "__main__" else "",
            "started": started_at.isoformat(),
            "machine": machine(),
            "server_version": cluster.version,
            "own_server": cluster.owns_server,
            "pgbouncer": pgbouncer_version(),
            "pool_size": args.pool_size,
            "clients": args.clients,
            "users": args.users,
            "hot": len(made.hot),
            "mix": MIX,
            "passed": verdict.passed,
            "reason": verdict.reason(),
            "summary": summary,
            "faults": [{"name": r.name, "at": round(r.start - t0, 1), "ok": r.ok, "summary": r.summary,
                        "details": r.details} for r in faults.results],
            "check": {"resolved": dict(verdict.resolved), "counts": verdict.counts,
                      "problems": [str(p) for p in verdict.problems]},
        }
        if args.json:
            report.write_json(args.json, document)
        if args.markdown:
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(report.markdown(document))
        if verdict.passed:
            say(f"soak: passed: {verdict.reason()}")
            return 0
        say(f"soak: FAILED: {verdict.reason()}")
        return 1
    finally:
        try:
            cluster.close(keep=args.keep)
        except (ClusterError, OSError, Exception) as exc:  # noqa: BLE001 - cleanup reports, never hides the verdict
            say(f"soak: cleanup: {exc}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        source, target = args.render
        target.write_text(report.markdown(json.loads(source.read_text())))
        say(f"wrote {target}")
        return 0
    # SIGTERM (a CI timeout) stops the run as Ctrl-C does, so the servers are stopped and removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(args)
    except KeyboardInterrupt:
        say("soak: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
