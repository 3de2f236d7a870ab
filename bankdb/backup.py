"""Backups a restore has proven: a pg_dump archive, the roles, and a manifest to check against.

A backup is a folder `bankdb-<database>-<UTC time>` holding:
  database.dump[.enc]   pg_dump custom format (restorable in parallel)
  roles.sql[.enc]       pg_dumpall --globals-only --no-role-passwords (roles, tablespaces)
  manifest.json         server version, migration history, per table row count and content
                        checksum, and the sha256 of each file above
With a key (32 random bytes, base64, kept outside the repository) both files are encrypted with
AES-256-GCM in 1 MiB chunks: a wrong key, a changed byte, a reordered or missing chunk all fail.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bankdb import db, migrator
from bankdb.server import pg_tool

MAGIC = b"BANKDB-AESGCM-1\n"
CHUNK = 1 << 20
PREFIX = "bankdb-"
Out = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore could not be made or does not match its manifest."""


# -- encryption ------------------------------------------------------------------------------


def load_key(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read the backup key from {path}: {exc}") from exc
    if len(key) != 32:
        raise BackupError(f"the backup key in {path} must be 32 bytes, base64-encoded (it has {len(key)})")
    return key


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    """Chunked AES-256-GCM; each chunk's nonce and associated data bind its position and whether it is last."""
    aead, prefix = AESGCM(key), os.urandom(8)
    with source.open("rb") as src, target.open("wb") as dst:
        dst.write(MAGIC + prefix)
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            sealed = aead.encrypt(prefix + struct.pack(">I", index), chunk, struct.pack(">I?", index, last))
            dst.write(struct.pack(">I", len(sealed)) + sealed)
            if last:
                return
            index, chunk = index + 1, following


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    aead = AESGCM(key)
    with source.open("rb") as src, target.open("wb") as dst:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{source.name} is not an encrypted bankdb backup file")
        prefix, index = src.read(8), 0
        while True:
            header = src.read(4)
            if len(header) < 4:
                raise BackupError(f"{source.name} is truncated: its last chunk is missing")
            sealed = src.read(struct.unpack(">I", header)[0])
            for last in (False, True):
                try:
                    dst.write(aead.decrypt(prefix + struct.pack(">I", index), sealed, struct.pack(">I?", index, last)))
                    break
                except InvalidTag:
                    continue
            else:
                raise BackupError(
                    f"{source.name}: chunk {index} does not decrypt: a wrong key, or the file was changed"
                )
            if last:
                if src.read(1):
                    raise BackupError(f"{source.name} has data after its last chunk: the file was changed")
                return
            index += 1


# -- manifest --------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(conninfo: str) -> dict:
    """What a restore must reproduce: server version, migration history, and per table the row count
    and an order-independent checksum of its rows."""
    with db.connect(conninfo, "bankdb backup") as conn:
        db.stable_text(conn)
        tables = [r[0] for r in conn.execute(
            """
            SELECT c.oid::regclass::text FROM pg_catalog.pg_class AS c
            WHERE c.relnamespace::regnamespace::text IN ('bank', %s) AND c.relkind IN ('r', 'p')
              AND NOT c.relispartition
            ORDER BY 1
            """,
            (migrator.HISTORY_SCHEMA,),
        ).fetchall()]
        counts = {}
        for table in tables:
            rows, checksum = db.rows_and_checksum(conn, sql.SQL(table))
            counts[table] = {"rows": rows, "checksum": checksum}
        history = {a.id: a.checksum for a in migrator.read_history(conn).values()}
        return {"server_version": conn.info.server_version, "migrations": history, "tables": counts}


def compare(expected: dict, actual: dict) -> list[str]:
    """Every difference between a manifest and a restored database, in words."""
    differences = []
    if expected["migrations"] != actual["migrations"]:
        differences.append(f"migration history differs: {expected['migrations']} != {actual['migrations']}")
    for table in sorted(set(expected["tables"]) | set(actual["tables"])):
        want, got = expected["tables"].get(table), actual["tables"].get(table)
        if want is None or got is None:
            differences.append(f"{table}: {'not in the backup' if want is None else 'missing from the restore'}")
        elif want != got:
            content = "; their contents differ" if want["checksum"] != got["checksum"] else ""
            differences.append(f"{table}: {want['rows']} rows in the backup, {got['rows']} restored{content}")
    return differences


# -- backup and restore ----------------------------------------------------------------------


def _run(args: list[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()}")


def backup(conninfo: str, directory: Path, key: bytes | None = None, keep: int = 7, out: Out = print) -> Path:
    """Take a backup into a new folder under `directory`, prove the archive readable, then delete
    all but the newest `keep` backups there."""
    with db.connect(conninfo, "bankdb backup") as conn:
        dbname, major = conn.info.dbname, conn.info.server_version // 10000
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = directory / f"{PREFIX}{dbname}-{stamp}"
    directory.mkdir(parents=True, exist_ok=True)
    # Written in a private folder beside the backups and renamed into place only when complete.
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=directory))
    try:
        out(f"Fingerprinting {dbname}...")
        manifest = {"database": dbname, "created_at": stamp, "encrypted": key is not None, **fingerprint(conninfo)}
        out("Dumping the database (pg_dump, custom format)...")
        _run([pg_tool("pg_dump", major), "--format=custom", "--enable-row-security", f"--file={work / 'database.dump'}",
              "--dbname", conninfo], "pg_dump")
        _run([pg_tool("pg_restore", major), "--list", str(work / "database.dump")], "reading the archive back")
        out("Dumping the roles and tablespaces (pg_dumpall --globals-only --no-role-passwords)...")
        _run([pg_tool("pg_dumpall", major), "--globals-only", "--no-role-passwords", f"--file={work / 'roles.sql'}",
              "--dbname", conninfo], "pg_dumpall")
        files = {}
        for name in ("database.dump", "roles.sql"):
            if key is not None:
                encrypt_file(work / name, work / f"{name}.enc", key)
                (work / name).unlink()
                name = f"{name}.enc"
            files[name] = sha256(work / name)
        manifest["files"] = files
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    out(f"Backup written to {target}")
    # Older backups go only now that this one is complete and its archive was read back.
    backups = sorted(p for p in directory.iterdir() if p.name.startswith(PREFIX) and (p / "manifest.json").exists())
    for old in backups[:-keep] if keep > 0 else []:
        shutil.rmtree(old)
        out(f"Removed the old backup {old.name} (keeping {keep})")
    return target


def _role_of(line: str) -> str | None:
    """The role a line of `pg_dumpall --globals-only` is about: CREATE ROLE r, ALTER ROLE r,
    COMMENT ON ROLE r, GRANT x TO r; None for any other line."""
    if line.startswith(("CREATE ROLE ", "ALTER ROLE ")):
        name = line.split()[2]
    elif line.startswith("COMMENT ON ROLE "):
        name = line.split()[3]
    elif line.startswith("GRANT ") and " TO " in line:
        name = line.split(" TO ", 1)[1].split()[0]
    else:
        return None
    return name.rstrip(";").strip('"')


def create_missing_roles(server_conninfo: str, roles_sql: str, out: Out) -> None:
    """Run the statements of a roles file that concern roles the cluster lacks; existing roles are
    left exactly as they are."""
    lines = roles_sql.splitlines()
    with db.connect(make_conninfo(server_conninfo, dbname="postgres"), "bankdb restore") as conn:
        existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_catalog.pg_roles").fetchall()}
        missing = {_role_of(line) for line in lines if line.startswith("CREATE ROLE ")} - existing
        for line in lines:
            if _role_of(line) in missing:
                conn.execute(line)
        out(f"Created the missing roles: {', '.join(sorted(missing)) or 'none'}")


def database_is_empty(conn: psycopg.Connection) -> bool:
    return not conn.execute(
        """
        SELECT EXISTS (
            SELECT FROM pg_catalog.pg_class AS c
            WHERE c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        )
        """
    ).fetchone()[0]


def restore(server_conninfo: str, source: Path, database: str, key: bytes | None = None, jobs: int = 2,
            force: bool = False, with_roles: bool = False, out: Out = print) -> list[str]:
    """Restore a backup into `database` (created if missing) and compare it with the manifest.
    Returns the differences (none means the restore is proven); raises when it cannot restore."""
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{source} holds no manifest.json: not a bankdb backup")
    manifest = json.loads(manifest_path.read_text())
    for name, digest in manifest["files"].items():
        if sha256(source / name) != digest:
            raise BackupError(f"{source / name} does not match its checksum in the manifest: the file is corrupt")
    if manifest["encrypted"] and key is None:
        raise BackupError("this backup is encrypted: give its key (--key-file)")
    target = make_conninfo(server_conninfo, dbname=database)
    with db.connect(make_conninfo(server_conninfo, dbname="postgres"), "bankdb restore") as admin:
        major = admin.info.server_version // 10000
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists:
            with db.connect(target, "bankdb restore") as conn:
                empty = database_is_empty(conn)
            if not empty and not force:
                raise BackupError(f"database {database} is not empty: restore into a new one, or give --force")
            if not empty:
                out(f"Dropping the non-empty database {database} (--force)...")
                admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
                exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{database}"')
    with tempfile.TemporaryDirectory(prefix="bankdb-restore-") as scratch:
        files = {}
        for name in ("database.dump", "roles.sql"):
            stored = source / (f"{name}.enc" if manifest["encrypted"] else name)
            if manifest["encrypted"]:
                decrypt_file(stored, Path(scratch) / name, key)
                files[name] = Path(scratch) / name
            else:
                files[name] = stored
        if with_roles:
            create_missing_roles(server_conninfo, files["roles.sql"].read_text(), out)
        out(f"Restoring into {database} with {jobs} parallel jobs (pg_restore)...")
        _run([pg_tool("pg_restore", major), "--exit-on-error", f"--jobs={jobs}", "--dbname", target,
              str(files["database.dump"])], "pg_restore")
    out("Comparing the restored database with the manifest...")
    return compare(manifest, fingerprint(target))
