"""The faults, each done once in the middle of the workload, while the clients go on writing:

  crash      SIGKILL of the PostgreSQL server (the postmaster and all its processes), then a restart:
             crash recovery replays the WAL; acknowledged commits must survive
  pgbouncer  PgBouncer stopped at once (SIGTERM: every connection dropped) and started again
  migrate    `bankdb migrate` of a copy of the project whose trigger function of bank.transactions
             (its file re-creates the triggers: a table lock) and api.set_user differ by a comment:
             first while a transaction holds bank.transactions, with --lock-timeout 2s (it must give
             up after ~2 s, apply nothing, and hold the clients back no longer), then again (applied)
  timeout    an import of 2,000 rows with statement_timeout = 10ms in its transaction: 57014, nothing
             of it written, and the next transactions through the pool do not inherit the timeout
  readonly   ALTER SYSTEM SET default_transaction_read_only = on and a reload, held a few seconds,
             then reset: writes fail with 25006 meanwhile, then work again

The fault thread acts through a client of its own (the "faulter", with its own ledger), so what it
writes is checked like everything else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from .client import Client
from .cluster import Cluster
from .ledger import ACKED, FAILED

FAULTS = ("crash", "pgbouncer", "migrate", "timeout", "readonly")
NEEDS_OWN_SERVER = ("crash", "readonly")


@dataclass
class FaultResult:
    name: str
    start: float  # monotonic
    end: float = 0.0  # when the fault was over (server back, setting reset, migrate done)
    ok: bool = False
    summary: str = ""
    details: dict = field(default_factory=dict)  # filled in after the run too (window, errors, resume)
    phases: dict = field(default_factory=dict)  # name -> (start, end): the slowest write of each is reported


class Faults:
    def __init__(self, cluster: Cluster, faulter: Client, holder: Client, hold_seconds: float, t0: float,
                 out=print) -> None:
        self.cluster = cluster
        self.t0 = t0
        self.faulter = faulter  # through PgBouncer
        self.holder = holder  # straight to the server: the transaction the first migrate waits behind
        self.hold_seconds = hold_seconds
        self.out = out
        self.results: list[FaultResult] = []

    def user(self) -> int:
        return self.faulter.world.hot[0] if self.faulter.world.hot else self.faulter.world.ids()[0]

    def run(self, name: str) -> FaultResult:
        result = FaultResult(name, time.monotonic())
        self.out(f"  fault {name} at {result.start - self.t0:.0f} s ...")
        try:
            getattr(self, name)(result)
        except Exception as exc:  # noqa: BLE001 - a fault that breaks is the run's failure, reported
            result.ok = False
            result.summary = f"the fault itself failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        result.end = result.end or time.monotonic()
        self.out(f"  fault {name}: {'ok' if result.ok else 'FAILED'}: {result.summary}")
        self.results.append(result)
        return result

    def ensure_connected(self, client: Client) -> None:
        """A working connection: one idle since an earlier fault (a crash, a restart) is dead
        without knowing it until used."""
        if client.conn is not None and not client.conn.closed and not client.conn.broken:
            try:
                client.conn.execute("SELECT 1")
                return
            except psycopg.Error:
                pass
        client.connect(give_up=60)

    # -- the faults --------------------------------------------------------------------------

    def crash(self, result: FaultResult) -> None:
        log_path = self.cluster.server.log
        seen = log_path.stat().st_size if log_path.exists() else 0
        killed = self.cluster.kill_server()
        dead = time.monotonic()
        self.cluster.start_server()
        result.end = time.monotonic()
        with log_path.open(errors="replace") as f:
            f.seek(seen)
            log = f.read().splitlines()
        # "redo starts at 0/1F1C2A8", "redo done at 0/22340B8 system usage: ...": the WAL replayed.
        redo = [" ".join(line.split("LOG:", 1)[-1].split()[:4]) for line in log if "redo starts" in line or "redo done" in line]
        result.details.update(processes=killed, restart_seconds=round(result.end - dead, 2), redo=redo)
        result.ok = any(r.startswith("redo done") for r in redo)
        result.summary = (f"SIGKILL of {killed} server processes; restarted with crash recovery "
                          f"({', '.join(redo) or 'no redo in the log'}) in {result.end - dead:.1f} s")

    def pgbouncer(self, result: FaultResult) -> None:
        down = self.cluster.restart_bouncer()
        result.end = time.monotonic()
        read = None
        for _ in range(20):  # a client through the pool reads again
            self.ensure_connected(self.faulter)
            read = self.faulter.transact("read", self.user(), "", [], lambda conn: None)
            if read is not None and read.status == ACKED:
                break
            time.sleep(0.25)
        result.ok = read is not None and read.status == ACKED
        result.details.update(down_seconds=round(down, 2))
        result.summary = f"PgBouncer stopped (SIGTERM, immediate) and listening again after {down:.2f} s"

    def migrate(self, result: FaultResult) -> None:
        project, mark = self.cluster.changed_project()
        blocked = {}

        def migrate_while_held() -> None:
            began = time.monotonic()
            blocked["run"] = self.cluster.migrate(project, lock_timeout="2s", lock_wait=10)
            result.phases["blocked migrate"] = (began, time.monotonic())
            blocked["applied"] = self.cluster.function_has(mark)

        held = None
        for _ in range(3):  # until the held transaction ran the migrate (its connection may be fresh)
            self.ensure_connected(self.holder)
            # For the user no client acts for: what the clients wait on is the migrate's lock, not this row's.
            held = self.holder.op_insert(self.holder.world.reserved, during=migrate_while_held)
            if "run" in blocked:
                break
        first = blocked.get("run")
        began = time.monotonic()
        second = self.cluster.migrate(project)
        result.end = time.monotonic()
        result.phases["applied migrate"] = (began, result.end)
        applied = self.cluster.function_has(mark)
        result.details.update(
            held_transaction=held.status if held else None,
            blocked={"exit": first.code, "seconds": round(first.seconds, 2), "message": first.message,
                     "applied": blocked["applied"]} if first else None,
            applied={"exit": second.code, "seconds": round(second.seconds, 2), "message": second.message,
                     "applied": applied},
        )
        result.ok = (first is not None and first.code == 1 and not any(blocked["applied"].values())
                     and "55P03" in first.message and held is not None and held.status == ACKED
                     and second.code == 0 and all(applied.values()))
        result.summary = (
            (f"behind a held transaction, `bankdb migrate --lock-timeout 2s` exited after {first.seconds:.1f} s (exit {first.code}: "
             f"{first.message[:220]}), nothing applied; " if first else "the held migrate did not run; ")
            + f"then `bankdb migrate` applied it in {second.seconds:.1f} s while the clients wrote (exit {second.code})"
        )

    def timeout(self, result: FaultResult) -> None:
        self.ensure_connected(self.faulter)
        op = self.faulter.op_import(self.user(), rows=2000, timeout="10ms")
        result.end = time.monotonic()
        settings = set()
        for _ in range(20):
            self.ensure_connected(self.faulter)
            with self.faulter.conn.transaction():
                settings.add(self.faulter.conn.execute("SELECT current_setting('statement_timeout')").fetchone()[0])
        result.details.update(status=op.status if op else None, sqlstate=op.sqlstate if op else None,
                              message=op.message if op else "", timeouts_after=sorted(settings))
        result.ok = op is not None and op.status == FAILED and op.sqlstate == "57014" and settings == {"0"}
        result.summary = (f"an import of 2,000 rows under statement_timeout 10ms: "
                          f"{op.sqlstate if op else '?'} ({op.message[:100] if op else ''}); "
                          f"statement_timeout in the pool's next transactions: {', '.join(sorted(settings))}")

    def readonly(self, result: FaultResult) -> None:
        self.cluster.set_read_only(True)
        on = time.monotonic()
        time.sleep(0.5)  # the server connections read the new setting at their next command
        self.ensure_connected(self.faulter)
        refused = self.faulter.op_insert(self.user())
        time.sleep(max(0.0, self.hold_seconds - (time.monotonic() - on)))
        self.cluster.set_read_only(False)
        result.end = time.monotonic()
        accepted = None
        for _ in range(50):
            self.ensure_connected(self.faulter)
            accepted = self.faulter.op_insert(self.user())
            if accepted is not None and accepted.status == ACKED:
                break
            time.sleep(0.1)
        result.details.update(held_seconds=round(result.end - on, 1),
                              refused={"sqlstate": refused.sqlstate, "message": refused.message} if refused else None,
                              setting_after=self.cluster.read_only_setting())
        result.ok = (refused is not None and refused.status == FAILED and refused.sqlstate == "25006"
                     and accepted is not None and accepted.status == ACKED
                     and result.details["setting_after"] == "off")
        result.summary = (f"read-only for {result.end - on:.1f} s: a write got "
                          f"{refused.sqlstate if refused else '?'} ({refused.message[:90] if refused else ''}); "
                          f"writes accepted again after the reset")


def window_report(result: FaultResult, events: list, acks: list, ledgers: list, grace: float = 2.0) -> None:
    """What the clients saw from the fault's start to `grace` seconds after its end: errors by
    SQLSTATE, ops left unknown, the slowest write, and when writes were acknowledged again."""
    start, end = result.start, result.end + grace
    errors: dict[str, int] = {}
    for at, _, state in events:
        if start <= at <= end:
            errors[state] = errors.get(state, 0) + 1
    unknown = sum(1 for ledger in ledgers for op in ledger.ops if op.status == "unknown" and start <= op.at <= end)
    during = [ms for at, ms in acks if start <= at <= end]
    after = [at for at, _ in acks if at >= result.end]
    for phase, (began, ended) in result.phases.items():
        # A write belongs to the phase it began in: what it queued behind.
        slowest = [ms for at, ms in acks if began <= at - ms / 1000 <= ended]
        result.details[f"{phase}: slowest write ms"] = round(max(slowest), 1) if slowest else None
        result.details[f"{phase}: seconds"] = round(ended - began, 2)
    result.details.update(
        window_errors=dict(sorted(errors.items())), window_unknown=unknown,
        window_max_write_ms=round(max(during), 1) if during else None,
        writes_again_after_seconds=round(min(after) - result.end, 2) if after else None,
    )

