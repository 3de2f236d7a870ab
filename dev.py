#!/usr/bin/env python3
"""The two commands of the quick start, needing nothing but Python 3.11+:

    python3 dev.py up      a migrated, seeded database on the embedded server, and how to connect
    python3 dev.py test    the linters (sqlfluff, squawk) and the whole test suite

On first use (and whenever pyproject.toml changes) it creates .venv and installs bankdb with its
test and lint tools there. Anything else is handed to the bankdb command: `python3 dev.py status`.
`python3 dev.py test` takes pytest's arguments (`python3 dev.py test -k rollback`); set
BANKDB_TEST_DATABASE_URL to run the suite on another server instead of the embedded one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".bankdb-installed"


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def bootstrap() -> None:
    """Create .venv and install the project into it, unless pyproject.toml is unchanged since."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "bankdb").exists():
        return
    if sys.version_info < (3, 11):
        sys.exit(f"bankdb needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    print("Installing bankdb and its tools into .venv (first use only)...", flush=True)
    if not (BIN / "python").exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.check_call([*pip, "--upgrade", "pip"], cwd=ROOT)
    subprocess.check_call([*pip, "--editable", ".[dev]"], cwd=ROOT)
    STAMP.write_text(wanted)


def lint() -> int:
    """sqlfluff on every SQL file and on the rendering of every .sql.j2 template (what is applied, as
    `bankdb plan --render` writes it);
    squawk on the migrations. A rollback file exists to drop what its migration made, so squawk's
    ban-drop-* rules are off for rollback files only."""
    rendered = ROOT / ".bankdb" / "rendered"
    if code := run(BIN / "bankdb", "plan", "--render", rendered, env={**os.environ, "BANKDB_PROJECT_DIR": str(ROOT)}):
        return code
    steps = [
        (BIN / "sqlfluff", "lint", "migrations", "functions", "views", "seeds", "security", "scripts", rendered,
         "--processes", "2"),
        (BIN / "squawk", "--exclude-path", "*.rollback.sql", "migrations/*.sql"),
        (BIN / "squawk",
         "--exclude", "require-lock-timeout,require-statement-timeout,ban-drop-table,ban-drop-type,ban-drop-schema,"
                      "ban-drop-sequence,ban-drop-constraint",
         "migrations/*.rollback.sql"),
    ]
    for step in steps:
        print("$", " ".join(str(s).replace(str(BIN) + "/", "") for s in step), flush=True)
        if code := run(*step):
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    bootstrap()
    command, rest = argv[0], argv[1:]
    if command == "lint":
        return lint()
    if command == "test":
        if "--no-lint" in rest:
            rest.remove("--no-lint")
        elif code := lint():
            return code
        return run(BIN / "python", "-m", "pytest", *rest)
    os.execv(BIN / "bankdb", [str(BIN / "bankdb"), *argv])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
