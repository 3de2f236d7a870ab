"""The restore drill: generated data, backup, restore elsewhere, identical; damage is detected."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from bankdb import backup
from bankdb.seed import seed

from ..conftest import PROJECT, new_db_name
from ..views.conftest import GENERATE


@pytest.fixture
def source(db: str) -> str:
    """A database with the generated data set and the demo users, committed."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(GENERATE)
    seed(PROJECT, db, demo=True, out=lambda _: None)
    return db


@pytest.fixture
def target_name(server) -> Iterator[str]:
    name = new_db_name("bankdb_restored")
    yield name
    server.janitor(name).drop()


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "backup.key"
    path.write_text(backup.new_key())
    return path, backup.load_key(path)


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_restore_reproduces_every_row_and_the_migration_history(
    server, source: str, target_name: str, tmp_path: Path, key, encrypted: bool
) -> None:
    taken = backup.backup(source, tmp_path / "backups", key[1] if encrypted else None, out=quiet)
    manifest = json.loads((taken / "manifest.json").read_text())
    assert manifest["tables"]["bank.transactions"]["rows"] > 1000
    assert set(manifest["files"]) == ({"database.dump.enc", "roles.sql.enc"} if encrypted else {"database.dump", "roles.sql"})
    differences = backup.restore(server.conninfo(), taken, target_name, key[1] if encrypted else None, out=quiet)
    assert differences == []
    restored = backup.fingerprint(server.conninfo(target_name))
    assert restored["tables"] == manifest["tables"] and restored["migrations"] == manifest["migrations"]
    assert len(restored["migrations"]) > 5  # migrations and repeatable scripts


def test_a_corrupted_archive_is_detected_and_not_restored(server, source: str, target_name: str, tmp_path: Path) -> None:
    taken = backup.backup(source, tmp_path / "backups", out=quiet)
    archive = taken / "database.dump"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="does not match its checksum in the manifest: the file is corrupt"):
        backup.restore(server.conninfo(), taken, target_name, out=quiet)
    with psycopg.connect(server.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (target_name,)).fetchone()[0] == 0


def test_a_wrong_key_or_a_tampered_encrypted_archive_fails_loudly(
    server, source: str, target_name: str, tmp_path: Path, key
) -> None:
    taken = backup.backup(source, tmp_path / "backups", key[1], out=quiet)
    wrong = base64.b64decode(backup.new_key())
    with pytest.raises(backup.BackupError, match="chunk 0 does not decrypt: a wrong key, or the file was changed"):
        backup.restore(server.conninfo(), taken, target_name, wrong, out=quiet)
    # Changed and re-hashed, so only the encryption can tell.
    archive = taken / "database.dump.enc"
    data = bytearray(archive.read_bytes())
    data[-100] ^= 0x01
    archive.write_bytes(bytes(data))
    manifest = json.loads((taken / "manifest.json").read_text())
    manifest["files"]["database.dump.enc"] = backup.sha256(archive)
    (taken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match="does not decrypt: a wrong key, or the file was changed"):
        backup.restore(server.conninfo(), taken, target_name, key[1], out=quiet)


def test_a_truncated_encrypted_archive_is_detected(tmp_path: Path, key) -> None:
    plain, sealed, back = tmp_path / "p", tmp_path / "s", tmp_path / "b"
    plain.write_bytes(b"x" * (3 * backup.CHUNK + 5))
    backup.encrypt_file(plain, sealed, key[1])
    backup.decrypt_file(sealed, back, key[1])
    assert back.read_bytes() == plain.read_bytes()
    sealed.write_bytes(sealed.read_bytes()[: -(backup.CHUNK // 2)])  # the last chunk cut off
    with pytest.raises(backup.BackupError):
        backup.decrypt_file(sealed, back, key[1])


def test_restore_refuses_a_non_empty_database_without_force(server, source: str, tmp_path: Path) -> None:
    taken = backup.backup(source, tmp_path / "backups", out=quiet)
    occupied = conninfo_to_dict(source)["dbname"]
    with pytest.raises(backup.BackupError, match=f"database {occupied} is not empty: restore into a new one, or give --force"):
        backup.restore(server.conninfo(), taken, occupied, out=quiet)


def test_only_the_newest_backups_are_kept(source: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    taken = [backup.backup(source, folder, keep=2, out=quiet) for _ in range(3)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in taken[1:])


def test_the_restore_command_exits_1_on_any_difference_from_the_manifest(server, source: str, target_name: str,
                                                                         tmp_path: Path) -> None:
    taken = backup.backup(source, tmp_path / "backups", out=quiet)
    manifest = json.loads((taken / "manifest.json").read_text())
    manifest["tables"]["bank.users"]["rows"] += 1  # the backup claims a user the archive does not hold
    (taken / "manifest.json").write_text(json.dumps(manifest))
    env = {**os.environ, "DATABASE_URL": server.url("postgres")}
    result = subprocess.run([sys.executable, "-m", "bankdb", "restore", str(taken), "--database", target_name],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "The restored database differs from the backup's manifest:" in result.stderr
    assert f"  bank.users: {manifest['tables']['bank.users']['rows']} rows in the backup, " \
           f"{manifest['tables']['bank.users']['rows'] - 1} restored\n" in result.stderr


def test_with_roles_creates_only_the_roles_the_cluster_lacks(server, template: str) -> None:
    """--with-roles runs the roles file's statements about missing roles; a role the cluster has
    (bank_app, made by the migrations) is left exactly as it is."""
    new = new_db_name("restored_role")
    roles_sql = "\n".join([
        "CREATE ROLE bank_app;",
        "ALTER ROLE bank_app WITH SUPERUSER;",
        "COMMENT ON ROLE bank_app IS 'changed';",
        f"CREATE ROLE {new};",
        f"ALTER ROLE {new} WITH NOSUPERUSER INHERIT NOLOGIN;",
        f"COMMENT ON ROLE {new} IS 'from the backup';",
        f"GRANT bank_app TO {new};",
        "GRANT bank_app TO postgres;",
    ])
    said: list[str] = []
    state = """
        SELECT r.rolsuper, shobj_description(r.oid, 'pg_authid'),
               array(SELECT m.roleid::regrole::text FROM pg_auth_members AS m WHERE m.member = r.oid)
        FROM pg_roles AS r WHERE r.rolname = %s
    """
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        bank_app = conn.execute(state, ("bank_app",)).fetchone()
        try:
            backup.create_missing_roles(server.conninfo(), roles_sql, said.append)
            assert conn.execute(state, (new,)).fetchone() == (False, "from the backup", ["bank_app"])
            assert conn.execute(state, ("bank_app",)).fetchone() == bank_app
            assert said == [f"Created the missing roles: {new}"]
        finally:
            conn.execute(f"DROP ROLE IF EXISTS {new}")
