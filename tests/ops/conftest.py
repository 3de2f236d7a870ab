"""Extra servers for drills: the session server's major version, on free ports on 127.0.0.1."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bankdb.server import EmbeddedServer, bin_dir_for, free_port

from ..conftest import REPO

@pytest.fixture
def spawn(server) -> Iterator[Callable[..., EmbeddedServer]]:
    """spawn() -> a new, not yet started server; all are stopped and deleted after the test."""
    made: list[EmbeddedServer] = []

    def make() -> EmbeddedServer:
        home = Path(tempfile.mkdtemp(prefix="drill-", dir=REPO / ".bankdb"))
        new = EmbeddedServer(home, bin_dir=bin_dir_for(server.version), port=free_port(), tcp=True)
        made.append(new)
        return new

    yield make
    for each in reversed(made):
        each.destroy()
