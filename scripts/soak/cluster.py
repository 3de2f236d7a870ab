"""The servers the soak drives: a PostgreSQL server (its own embedded PostgreSQL 18, or one it is
given) and Debian's PgBouncer in transaction mode, both on loopback; and what it does to them."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bankdb import migrator
from bankdb.server import SERVICE_USER, TRUST_LOOPBACK, EmbeddedServer, free_port, give_to_service_user
from bankdb.settings import Project

# The soak's own server keeps PostgreSQL's durable defaults (fsync, synchronous_commit on): a crash
# must keep every acknowledged commit.
SETTINGS = {"max_connections": "100"}
# The changed repeatable scripts `bankdb migrate` applies mid-run: a trigger function whose file
# also re-creates its triggers on bank.transactions (a table lock on the busiest table), and the
# function every transaction calls first.
MIGRATED = {
    "functions/bank.tg_transactions__monthly_totals.sql": "    RETURN NULL;\nEND;\n$$;",
    "functions/api.set_user.sql.j2": "END;\n$$;",
}


class ClusterError(RuntimeError):
    pass


def _wait_for_port(port: int, process: subprocess.Popen, stderr: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise ClusterError(f"pgbouncer exited with {process.returncode}: {stderr.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise ClusterError(f"pgbouncer did not listen on 127.0.0.1:{port} within {timeout:g} s")
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid (a postmaster's backends and workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@dataclass
class MigrateResult:
    code: int
    seconds: float
    message: str  # its output (stderr when it failed), one line


class Cluster:
    """PostgreSQL and PgBouncer for one soak run, under `home` (deleted by close())."""

    def __init__(self, root: Path, home: Path, given_url: str | None = None, pool_size: int = 8,
                 out=print) -> None:
        self.root = root
        self.home = home
        self.given = given_url
        self.pool_size = pool_size
        self.out = out
        self.server: EmbeddedServer | None = None
        self.bouncer: subprocess.Popen | None = None
        self.bouncer_port = 0
        tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.dbname = "soak" if given_url is None else f"soak_{tag}"
        self.app_role = "soak_app" if given_url is None else f"soak_app_{tag}"
        self.app_password = secrets.token_hex(12)
        self.migrate_round = 0
        self.version = ""

    # -- where -------------------------------------------------------------------------------

    @property
    def owns_server(self) -> bool:
        """Whether the soak started the server (and may kill it, or switch it read-only)."""
        return self.given is None

    def _server_params(self) -> dict:
        if self.given is None:
            return {"host": "127.0.0.1", "port": self.server.port, "user": "postgres"}
        params = {k: v for k, v in conninfo_to_dict(self.given).items() if v is not None}
        params.pop("dbname", None)
        return params

    def admin(self, dbname: str | None = None) -> str:
        """A superuser's conninfo, straight to the server."""
        return make_conninfo(**self._server_params(), dbname=dbname or self.dbname)

    def app_direct(self) -> str:
        """The application login's conninfo straight to the server (the checker reads through it)."""
        params = self._server_params()
        return make_conninfo(host=params.get("host", "127.0.0.1"), port=params.get("port", 5432),
                             dbname=self.dbname, user=self.app_role, password=self.app_password)

    def app_pooled(self) -> str:
        """The application login's conninfo through PgBouncer (what the clients use)."""
        return make_conninfo(host="127.0.0.1", port=self.bouncer_port, dbname=self.dbname, user=self.app_role,
                             connect_timeout=3)

    def database_url(self) -> str:
        """DATABASE_URL for `bankdb migrate`, as a superuser, straight to the server."""
        if self.given is None:
            return f"postgresql://postgres@127.0.0.1:{self.server.port}/{self.dbname}"
        parts = urlsplit(self.given)
        return urlunsplit((parts.scheme, parts.netloc, "/" + quote(self.dbname), parts.query, ""))

    # -- up and down -------------------------------------------------------------------------

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.given is None:
            self.server = EmbeddedServer(self.home / "pg", port=free_port(), tcp=True)
            self.server.start(SETTINGS, hba=TRUST_LOOPBACK)
            self.out(f"PostgreSQL: {self.server.bin('postgres')}, port {self.server.port}, data in {self.server.data}")
        with psycopg.connect(self.admin("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        migrator.migrate(Project(self.root), self.admin(), out=lambda _: None)
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE bank_app").format(
                sql.Identifier(self.app_role), sql.Literal(self.app_password)))
            self.version = conn.execute("SHOW server_version").fetchone()[0]
        self.start_bouncer()

    def close(self, keep: bool = False) -> None:
        self.stop_bouncer()
        if self.given is None:
            if self.server is not None:
                if keep:
                    self.out(f"Kept the server's files in {self.server.home} (stopped).")
                    self.server.stop()
                else:
                    self.server.destroy()
        else:
            with psycopg.connect(self.admin("postgres"), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.dbname)))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.app_role)))
        if not keep:
            shutil.rmtree(self.home, ignore_errors=True)

    # -- PgBouncer ---------------------------------------------------------------------------

    def start_bouncer(self) -> None:
        folder = self.home / "pgbouncer"
        if self.bouncer_port == 0:
            folder.mkdir(exist_ok=True)
            self.bouncer_port = free_port()
            params = self._server_params()
            host = params.get("host", "127.0.0.1")
            (folder / "userlist.txt").write_text(f'"{self.app_role}" ""\n')
            # Clients log in to PgBouncer without a password (loopback only); PgBouncer logs in to
            # the server as the application role with its password.
            (folder / "pgbouncer.ini").write_text(f"""[databases]
{self.dbname} = host={host} port={params.get('port', 5432)} dbname={self.dbname} user={self.app_role} password={self.app_password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.bouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
default_pool_size = {self.pool_size}
max_client_conn = 500
server_login_retry = 1
log_connections = 0
log_disconnections = 0
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
            give_to_service_user(folder, *folder.iterdir())  # PgBouncer will not run as root
        # Its log goes to a file, never to a pipe: a pipe nobody reads fills up, and PgBouncer then
        # blocks writing its next log line, every client with it.
        with (folder / "stderr.log").open("a") as stderr:
            self.bouncer = subprocess.Popen(
                [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(folder / "pgbouncer.ini")],
                user=SERVICE_USER if os.geteuid() == 0 else None,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            )
        _wait_for_port(self.bouncer_port, self.bouncer, folder / "stderr.log")

    def stop_bouncer(self, how: int = signal.SIGTERM) -> None:
        """SIGTERM: PgBouncer's immediate shutdown, every client and server connection dropped."""
        if self.bouncer is not None and self.bouncer.poll() is None:
            self.bouncer.send_signal(how)
            try:
                self.bouncer.wait(15)
            except subprocess.TimeoutExpired:
                self.bouncer.kill()
                self.bouncer.wait(5)
        self.bouncer = None

    def restart_bouncer(self) -> float:
        """Stop PgBouncer at once (clients and transactions cut off) and start it again; seconds down."""
        started = time.monotonic()
        self.stop_bouncer(signal.SIGTERM)
        self.start_bouncer()
        return time.monotonic() - started

    # -- the server --------------------------------------------------------------------------

    def kill_server(self) -> int:
        """SIGKILL the postmaster and every process it started, at once (an abrupt power-off, less
        the loss of the OS's page cache); returns how many processes were killed."""
        if not self.owns_server:
            raise ClusterError("the soak may only kill a server it started (not one given with --server)")
        pid = self.server.pid()
        if pid is None:
            raise ClusterError("the server is not running")
        victims = [pid, *_children(pid)]
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while any(_alive(v) for v in victims):
            if time.monotonic() > deadline:
                raise ClusterError(f"server processes still alive 30 s after SIGKILL: {victims}")
            time.sleep(0.02)
        return len(victims)

    def start_server(self) -> None:
        """Start the killed server: PostgreSQL replays its WAL (crash recovery) before accepting."""
        # The killed postmaster's pid stays taken until its parent (init) reaps it: until then both
        # EmbeddedServer and postgres itself take the lock file for a running server.
        pid = int((self.server.data / "postmaster.pid").read_text().split("\n", 1)[0])
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"the killed postmaster (pid {pid}) was not reaped within 60 s")
            time.sleep(0.02)
        if not self.server.start(SETTINGS):
            raise ClusterError("the server was still running after the kill")

    def set_read_only(self, on: bool) -> None:
        """default_transaction_read_only for the whole server (ALTER SYSTEM, then a reload): every
        transaction begun after the reload is read-only, or no longer."""
        if not self.owns_server:
            raise ClusterError("the soak switches to read-only only a server it started (ALTER SYSTEM is server-wide)")
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            conn.execute("SET default_transaction_read_only = off")  # this session must write the setting
            if on:
                conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            else:
                conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
            conn.execute("SELECT pg_reload_conf()")

    def read_only_setting(self) -> str:
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            return conn.execute("SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'"
                                ).fetchone()[0]

    # -- bankdb migrate of a changed function --------------------------------------------------

    def changed_project(self) -> tuple[Path, str]:
        """A copy of the project whose two MIGRATED files differ by one comment in their bodies
        (a new one each round, so each migrate has something to apply); returns it and the comment."""
        self.migrate_round += 1
        mark = f"-- soak: migrate round {self.migrate_round} (a harmless change of the body)"
        copy = Path(tempfile.mkdtemp(prefix="project-", dir=self.home))
        for folder in ("migrations", "functions", "views", "security", "seeds"):
            shutil.copytree(self.root / folder, copy / folder)
        for name, anchor in MIGRATED.items():
            path = copy / name
            text = path.read_text()
            if anchor not in text:
                raise ClusterError(f"{name} no longer ends its body with {anchor!r}: update MIGRATED in {__file__}")
            path.write_text(text.replace(anchor, f"    {mark}\n{anchor}", 1))
        return copy, mark

    def migrate(self, project: Path, lock_timeout: str = "10s", lock_wait: float = 60.0) -> MigrateResult:
        """`bankdb migrate` of project, as a DBA runs it: the command line, straight to the server."""
        env = {**os.environ, "DATABASE_URL": self.database_url(), "BANKDB_PROJECT_DIR": str(project)}
        for variable in ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"):
            env.pop(variable, None)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bankdb", "migrate", "--lock-timeout", lock_timeout, "--lock-wait", str(lock_wait)],
            env=env, cwd=self.root, capture_output=True, text=True, timeout=600,
        )
        text = done.stderr.strip() if done.returncode else done.stdout.strip()
        return MigrateResult(done.returncode, time.monotonic() - started,
                             " / ".join(line.strip() for line in text.splitlines() if line.strip()) or "(no output)")

    def function_has(self, mark: str) -> dict[str, bool]:
        """Whether each migrated function's body holds mark now."""
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            return {name: conn.execute("SELECT prosrc LIKE %s FROM pg_proc WHERE oid = %s::regproc",
                                       (f"%{mark}%", name)).fetchone()[0]
                    for name in ("bank.tg_transactions__monthly_totals", "api.set_user")}
