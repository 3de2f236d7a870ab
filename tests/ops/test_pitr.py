"""The point-in-time recovery drill, on the session server's PostgreSQL version."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bankdb import pitr
from bankdb.server import bin_dir_for

from ..conftest import PROJECT, REPO


def test_recovery_to_a_time_brings_back_exactly_what_committed_before_it(server) -> None:
    home = Path(tempfile.mkdtemp(prefix="pitr-", dir=REPO / ".bankdb"))
    try:
        result = pitr.drill(PROJECT, bin_dir_for(server.version), home, out=lambda _: None)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert (result.before, result.after) == (result.expected_before, 0)
    assert 0 <= result.rpo_seconds < pitr.ARCHIVE_TIMEOUT
    assert 0 < result.rto_seconds < 60
