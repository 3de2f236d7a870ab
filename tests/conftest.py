"""One real PostgreSQL server per test session, a migrated template database, a clone per test.

The server is the embedded PostgreSQL 18 of the wheel, started in a temporary folder, or the one
BANKDB_TEST_DATABASE_URL names (a superuser URL; CI points it at the machine's PostgreSQL 15).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pytest_postgresql.janitor import DatabaseJanitor

from bankdb import migrator, seed
from bankdb.server import EmbeddedServer
from bankdb.settings import Project

REPO = Path(__file__).resolve().parent.parent
# CI replays the same examples every run; locally hypothesis explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
PROJECT = Project(REPO)
# The months test data may use (each partition adds ~10 ms to every clone); tests that need
# other months create them.
PARTITIONS = ("2025-01-01", "2025-12-31")
FAST_TEST_SERVER = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class Server:
    params: dict  # libpq keywords: host, port, user, password, dbname (the maintenance database)

    def conninfo(self, dbname: str | None = None) -> str:
        return make_conninfo(**{**self.params, **({"dbname": dbname} if dbname else {})})

    def url(self, dbname: str) -> str:
        p = {**self.params, "dbname": dbname}
        auth = p["user"] + (f":{p['password']}" if p.get("password") else "")
        host = p.get("host", "")
        if host.startswith("/"):
            return f"postgresql://{auth}@/{dbname}?host={host}&port={p.get('port', 5432)}"
        return f"postgresql://{auth}@{host}:{p.get('port', 5432)}/{dbname}"

    def janitor(self, dbname: str, template: str | None = None) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.params["user"],
            password=self.params.get("password"),
            host=self.params.get("host", "localhost"),
            port=self.params.get("port", 5432),
            dbname=dbname,
            template_dbname=template,
            maintenance_dbname=self.params.get("dbname", "postgres"),
        )

    @property
    def version(self) -> int:
        with psycopg.connect(self.conninfo()) as conn:
            return conn.info.server_version // 10000


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    url = os.environ.get("BANKDB_TEST_DATABASE_URL")
    if url:
        params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
        params.setdefault("dbname", "postgres")
        yield Server(params)
        return
    # Under the checkout's git-ignored .bankdb/: on these machines /tmp is slower storage, and
    # cloning the template there takes three times as long.
    (REPO / ".bankdb").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="test-server-", dir=REPO / ".bankdb"))
    embedded = EmbeddedServer(home)
    embedded.start(FAST_TEST_SERVER)
    try:
        yield Server(conninfo_to_dict(embedded.conninfo("postgres")))
    finally:
        embedded.destroy()


def new_db_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def template(server: Server) -> Iterator[str]:
    """A database migrated to the newest migration, with lookups and partitions for test dates."""
    name = new_db_name("bankdb_template")
    janitor = server.janitor(name)
    janitor.init()
    conninfo = server.conninfo(name)
    migrator.migrate(PROJECT, conninfo, out=lambda _: None)
    seed.seed(PROJECT, conninfo, out=lambda _: None)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT bank.create_transaction_partitions(%s, %s)", PARTITIONS)
        if "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")
        conn.execute("VACUUM (FREEZE, ANALYZE)")
        # Cloning waits on the template's dirty buffers: flushed once here, each clone takes
        # ~0.05 s instead of ~0.35 s.
        conn.execute("CHECKPOINT")
    try:
        yield name
    finally:
        janitor.drop()


def database(server: Server, template: str | None) -> Iterator[str]:
    """A new database (a clone of template, or empty): its conninfo, then it is dropped."""
    name = new_db_name("bankdb_test" if template else "bankdb_empty")
    janitor = server.janitor(name, template=template)
    janitor.init()
    try:
        yield server.conninfo(name)
    finally:
        janitor.drop()


@pytest.fixture
def db(server: Server, template: str) -> Iterator[str]:
    """The conninfo of a fresh clone of the template, for tests that commit or use several sessions."""
    yield from database(server, template)


@pytest.fixture(scope="module")
def module_db(server: Server, template: str) -> Iterator[str]:
    yield from database(server, template)


@pytest.fixture
def empty_db(server: Server) -> Iterator[str]:
    """The conninfo of a new, empty database (nothing migrated), dropped after the test."""
    yield from database(server, None)


@pytest.fixture
def conn(module_db: str) -> Iterator[psycopg.Connection]:
    """A connection in a transaction that is rolled back after the test (a module shares a clone).

    A statement expected to fail goes in `with conn.transaction():`, a savepoint, so the test's
    transaction goes on after it.
    """
    with psycopg.connect(module_db) as connection:
        try:
            yield connection
        finally:
            connection.rollback()


@pytest.fixture
def sql_tree(tmp_path: Path) -> Path:
    """An empty SQL tree (migrations/, functions/, views/) for runner tests to fill."""
    for folder in ("migrations", "functions", "views", "seeds"):
        (tmp_path / folder).mkdir()
    return tmp_path


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A copy of this repository's SQL tree, for tests that change files."""
    for folder in ("migrations", "functions", "views", "seeds"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return Project(tmp_path)
