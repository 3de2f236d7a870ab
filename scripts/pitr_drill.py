#!/usr/bin/env python3
"""Point-in-time recovery drill on throwaway servers on 127.0.0.1; prints the measured RPO and RTO.

    .venv/bin/python scripts/pitr_drill.py [--major 18]

A primary with WAL archiving, a verified base backup, transactions before and after a target time,
a failure, and a recovery to that time: it exits 1 unless exactly the transactions committed
before the target are there. Uses the PostgreSQL of the given major version (the wheel's 18, or
the machine's, e.g. 15). Nothing outside a temporary folder under .bankdb/ is touched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bankdb import pitr  # noqa: E402
from bankdb.server import bin_dir_for  # noqa: E402
from bankdb.settings import Project, default_project_dir  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--major", type=int, default=18, help="PostgreSQL major version to drill (default 18)")
    args = parser.parse_args()
    project = Project(default_project_dir())
    (project.root / ".bankdb").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="pitr-drill-", dir=project.root / ".bankdb"))
    try:
        result = pitr.drill(project, bin_dir_for(args.major), home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"Transactions before the target: {result.before} of {result.expected_before}; after it: {result.after}")
    print(f"RPO (measured): the newest archived WAL was {result.rpo_seconds:.1f} s old when the primary failed; "
          f"archive_timeout = {pitr.ARCHIVE_TIMEOUT} s bounds it")
    print(f"RTO (measured): {result.rto_seconds:.1f} s from starting recovery to a promoted server")
    ok = result.before == result.expected_before and result.after == 0
    print("drill passed" if ok else "DRILL FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
