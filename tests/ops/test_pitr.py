"""The point-in-time recovery drill, `bankdb drill pitr`, on the session server's PostgreSQL version."""

from __future__ import annotations

import re

from bankdb import pitr

from ..conftest import REPO
from ..runner.test_cli import bankdb


def test_recovery_to_a_time_brings_back_exactly_what_committed_before_it(server) -> None:
    folders = set((REPO / ".bankdb").glob("pitr-drill-*"))
    result = bankdb("drill", "pitr", "--major", str(server.version), timeout=600)
    assert (result.returncode, result.stderr) == (0, "")
    report = result.stdout.splitlines()[-4:]
    assert report[0] == "Transactions before the target: 50 of 50; after it: 0"
    rpo = re.fullmatch(r"RPO \(measured\): the newest archived WAL was (\d+\.\d) s old when the primary failed; "
                       rf"archive_timeout = {pitr.ARCHIVE_TIMEOUT} s bounds it", report[1])
    assert rpo and 0 <= float(rpo[1]) < pitr.ARCHIVE_TIMEOUT
    rto = re.fullmatch(r"RTO \(measured\): (\d+\.\d) s from starting recovery to a promoted server", report[2])
    assert rto and 0 < float(rto[1]) < 60
    assert report[3] == "drill passed"
    assert set((REPO / ".bankdb").glob("pitr-drill-*")) == folders  # its throwaway servers' folder is gone


def test_the_pitr_drill_explains_itself() -> None:
    result = bankdb("drill", "pitr", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert text.startswith("usage: bankdb drill pitr [-h] [--major VERSION]")
    for words in ("A primary archives its WAL", "RPO and RTO are measured, not assumed.",
                  "Exit 1 unless exactly the transactions committed before the target time are there.",
                  "--major VERSION the PostgreSQL major version to drill",
                  "The drill ignores DATABASE_URL and the PG* variables: its servers are its own."):
        assert words in text, words


def test_a_drill_without_the_server_programs_is_one_line_and_exit_1() -> None:
    result = bankdb("drill", "pitr", "--major", "9")
    assert result.returncode == 1
    assert re.fullmatch(r"bankdb: no PostgreSQL 9 server programs here \(looked in \S+ and /usr/lib/postgresql/9/bin\)\n",
                        result.stderr), result.stderr
