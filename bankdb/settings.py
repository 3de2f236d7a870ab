"""Where the project's files are and which database bankdb talks to."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bankdb.server import EmbeddedServer

# libpq reads these itself; any one of them set means "not the embedded server".
LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
EMBEDDED_DATABASE = "bankdb"


def default_project_dir() -> Path:
    """The checkout bankdb was installed from (editable install), or $BANKDB_PROJECT_DIR."""
    if env := os.environ.get("BANKDB_PROJECT_DIR"):
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    """The SQL tree: migrations/, functions/, views/, seeds/ under one folder."""

    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def repeatable_dirs(self) -> tuple[Path, ...]:
        # Functions (and the triggers they serve) before views, which may call them; grants and
        # policies last, when every object they name exists.
        return (self.root / "functions", self.root / "views", self.root / "security")

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def embedded(self) -> EmbeddedServer:
        return EmbeddedServer(self.root / ".bankdb")


@dataclass(frozen=True)
class Target:
    """The database to work on: a libpq conninfo (or URL), and whether it is the embedded server."""

    conninfo: str
    embedded: bool
    description: str


def resolve_target(project: Project) -> Target:
    """DATABASE_URL, else the libpq PG* variables, else the embedded server's `bankdb` database."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Accept yoyo/SQLAlchemy-style URLs too; libpq only knows postgresql:// and postgres://.
        for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix):]
        return Target(url, embedded=False, description="DATABASE_URL")
    if any(os.environ.get(v) for v in LIBPQ_VARIABLES):
        return Target("", embedded=False, description="the libpq PG* environment variables")
    server = project.embedded
    return Target(
        server.conninfo(EMBEDDED_DATABASE),
        embedded=True,
        description=f"the embedded server in {server.home}",
    )
