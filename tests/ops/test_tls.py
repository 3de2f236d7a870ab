"""docs/operations.md's production rule: application roles connect over TLS only (hostssl), never without."""

from __future__ import annotations

import datetime
import os
import subprocess

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bankdb.server import give_to_service_user

HBA = """local   all all                          trust
hostnossl all +bank_app 127.0.0.1/32     reject
hostssl   all +bank_app 127.0.0.1/32     scram-sha-256
host      all all       127.0.0.1/32     scram-sha-256
"""


def throwaway_certificate(directory) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(directory / "server.key", 0o600)
    give_to_service_user(directory / "server.crt", directory / "server.key")


def test_bank_app_is_refused_without_tls_and_accepted_with_it(spawn) -> None:
    server = spawn()
    configure = subprocess.run([server.bin("pg_config"), "--configure"], capture_output=True, text=True).stdout
    if "--with-openssl" not in configure and "--with-ssl" not in configure:
        pytest.skip(f"the PostgreSQL of {server.bin_dir} is built without SSL (the embedded wheel is); "
                    "this test runs on the machine's PostgreSQL 15")
    server.init()
    throwaway_certificate(server.data)
    server.start({"ssl": "on", "password_encryption": "'scram-sha-256'"}, hba=HBA)
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE ROLE bank_app NOLOGIN")
        conn.execute("CREATE ROLE dashboard_api LOGIN PASSWORD 'only-for-this-test' IN ROLE bank_app")
    tcp = f"host=127.0.0.1 port={server.port} dbname=postgres user=dashboard_api password=only-for-this-test"
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(tcp + " sslmode=disable")
    with psycopg.connect(tcp + " sslmode=require") as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
        assert conn.execute("SELECT current_user").fetchone()[0] == "dashboard_api"
