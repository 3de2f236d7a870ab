"""The point-in-time recovery drill, on throwaway servers on 127.0.0.1.

A primary archives its WAL (an archive_command that never overwrites), a base backup is taken and
checked with pg_verifybackup, more transactions commit, then the primary fails. A new server
recovers from the base backup and the archive to a target time between two batches: exactly the
transactions committed before it must be there. RPO and RTO are measured, not assumed.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bankdb import db, migrator, seed
from bankdb.server import TRUST_LOOPBACK, EmbeddedServer, ServerError, bin_dir_for, free_port, give_to_service_user
from bankdb.settings import Project

ARCHIVE_TIMEOUT = 60  # seconds: a WAL segment is archived at least this often, which bounds the RPO


@dataclass(frozen=True)
class DrillResult:
    before: int  # transactions committed before the target time, found after recovery
    after: int  # transactions committed after it, found after recovery (must be 0)
    expected_before: int
    rpo_seconds: float  # how old the newest archived WAL was when the primary failed
    rto_seconds: float  # from starting recovery to a promoted, writable server

    @property
    def passed(self) -> bool:
        """Exactly the transactions committed before the target time came back."""
        return self.before == self.expected_before and self.after == 0

    def report(self) -> str:
        return (
            f"Transactions before the target: {self.before} of {self.expected_before}; after it: {self.after}\n"
            f"RPO (measured): the newest archived WAL was {self.rpo_seconds:.1f} s old when the primary failed; "
            f"archive_timeout = {ARCHIVE_TIMEOUT} s bounds it\n"
            f"RTO (measured): {self.rto_seconds:.1f} s from starting recovery to a promoted server\n"
            + ("drill passed" if self.passed else "DRILL FAILED")
        )


def _append_settings(server: EmbeddedServer, settings: dict[str, str]) -> None:
    with (server.data / "postgresql.auto.conf").open("a") as conf:
        for key, value in settings.items():
            conf.write(f"{key} = '{value}'\n")


def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ServerError(f"gave up after {timeout}s waiting")
        time.sleep(0.05)


def run(project: Project, major: int, out: Callable[[str], None] = print) -> DrillResult:
    """The drill with the server programs of PostgreSQL `major`, in a folder under the project's
    .bankdb/ that is deleted afterwards, whatever happened."""
    (project.root / ".bankdb").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="pitr-drill-", dir=project.root / ".bankdb"))
    try:
        return drill(project, bin_dir_for(major), home, out)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def drill(project: Project, bin_dir: Path, home: Path, out: Callable[[str], None] = print,
          before: int = 50, after: int = 30) -> DrillResult:
    home.mkdir(parents=True, exist_ok=True)
    archive = home / "wal-archive"
    archive.mkdir(exist_ok=True)
    give_to_service_user(home, archive)

    primary = EmbeddedServer(home / "primary", bin_dir, free_port(), tcp=True)
    primary.init()
    _append_settings(primary, {
        "wal_level": "replica",
        "archive_mode": "on",
        # Never overwrite an archived segment: a second copy of a name means something is wrong.
        "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f",
        "archive_timeout": str(ARCHIVE_TIMEOUT),
    })
    primary.start(hba=TRUST_LOOPBACK)
    recovered = EmbeddedServer(home / "recovered", bin_dir, free_port(), tcp=True)
    try:
        with db.connect(primary.conninfo(), "bankdb pitr") as conn:
            conn.execute("CREATE DATABASE bankdb")
        target = primary.conninfo("bankdb")
        out("Migrating and seeding the primary...")
        migrator.migrate(project, target, out=lambda _: None)
        seed.seed(project, target, demo=True, out=lambda _: None)

        out("Taking a base backup and verifying it (pg_basebackup, pg_verifybackup)...")
        base = home / "base"
        for command in (
            ["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(base),
             "-X", "stream", "-c", "fast"],
            ["pg_verifybackup", str(base)],
        ):
            result = primary.run_as_owner([primary.bin(command[0]), *command[1:]], capture_output=True)
            if result.returncode != 0:
                raise ServerError(f"{command[0]} failed: {result.stderr}")

        insert = (
            "INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date)"
            " SELECT a.user_id, a.id, %s, g, a.currency, 'debit', current_date"
            " FROM bank.accounts AS a CROSS JOIN generate_series(1, %s) AS g"
            " WHERE a.id = (SELECT min(id) FROM bank.accounts WHERE account_type = 'checking')"
        )
        with db.connect(target, "bankdb pitr") as conn:
            conn.execute(insert, ("drill: before the target", before))
            target_time = conn.execute("SELECT clock_timestamp()").fetchone()[0]
            time.sleep(0.2)
            conn.execute(insert, ("drill: after the target", after))
            segment = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
            conn.execute("SELECT pg_switch_wal()")
            _until(lambda: (conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0] or "")
                   >= segment)
            archived_at = conn.execute("SELECT last_archived_time FROM pg_stat_archiver").fetchone()[0]
        out("The primary fails (immediate shutdown)...")
        primary.run_as_owner([primary.bin("pg_ctl"), "-D", str(primary.data), "-m", "immediate", "stop"],
                              capture_output=True)
        failed_at = datetime.datetime.now(datetime.timezone.utc)

        out(f"Recovering to {target_time.isoformat()} from the base backup and the WAL archive...")
        started = time.monotonic()
        recovered.home.mkdir()
        give_to_service_user(recovered.home)
        copy = primary.run_as_owner(["cp", "-a", str(base), str(recovered.data)], capture_output=True)
        if copy.returncode != 0:
            raise ServerError(f"copying the base backup failed: {copy.stderr}")
        _append_settings(recovered, {
            "restore_command": f"cp {archive}/%f %p",
            "recovery_target_time": target_time.isoformat(),
            "recovery_target_action": "promote",
            "archive_mode": "off",
        })
        (recovered.data / "recovery.signal").touch()
        give_to_service_user(recovered.data / "recovery.signal")
        recovered.start(hba=TRUST_LOOPBACK)
        with db.connect(recovered.conninfo("bankdb"), "bankdb pitr") as conn:
            _until(lambda: not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])
            rto = time.monotonic() - started
            counts = dict(conn.execute(
                "SELECT description, count(*) FROM bank.transactions WHERE description LIKE 'drill: %%' GROUP BY 1"
            ).fetchall())
        return DrillResult(
            before=counts.get("drill: before the target", 0),
            after=counts.get("drill: after the target", 0),
            expected_before=before,
            rpo_seconds=(failed_at - archived_at).total_seconds(),
            rto_seconds=rto,
        )
    finally:
        for server in (recovered, primary):
            try:
                server.stop()
            except ServerError:
                pass
