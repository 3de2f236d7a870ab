"""Extra servers for drills: the session server's major version, on free ports on 127.0.0.1."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bankdb.server import EmbeddedServer, bin_dir_for

from ..conftest import REPO

LOOPBACK_TRUST = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
