"""Retention: monthly partitions older than N months leave the database, proven archived first.

For each such partition: DETACH it from bank.transactions, COPY its rows to a file beside a small
manifest (row count, order-independent checksum, sha256 of the file), load the file back into a
scratch table and compare count and checksum, and only then DROP the partition. The monthly
totals and budgets of those months stay (bank.transaction_history_start() moves on, so verify and
rebuild leave them alone). A month comes back with COPY ... FROM into a recreated partition.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from bankdb import db


class RetentionError(Exception):
    pass


def first_kept_month(keep_months: int, today: datetime.date) -> datetime.date:
    """Keeping N months keeps this month and the N - 1 before it."""
    index = today.year * 12 + today.month - 1 - (keep_months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def expired(conn: psycopg.Connection, keep_months: int, today: datetime.date) -> list[str]:
    """The monthly partitions before the first kept month, oldest first."""
    return [r[0] for r in conn.execute(
        """
        SELECT c.relname FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'bank.transactions'::regclass AND c.relname ~ '^transactions_[0-9]{4}_[0-9]{2}$'
          AND to_date(substr(c.relname, length('transactions_') + 1), 'YYYY_MM') < %s
        ORDER BY 1
        """,
        (first_kept_month(keep_months, today),),
    ).fetchall()]


def archive_partitions(conninfo: str, keep_months: int, directory: Path, today: datetime.date | None = None,
                       out: Callable[[str], None] = print) -> list[Path]:
    """Archive, verify and drop the partitions of the months before the last keep_months."""
    if keep_months < 1:
        raise RetentionError(f"keep at least one month of transactions (--keep-months {keep_months})")
    directory.mkdir(parents=True, exist_ok=True)
    archived = []
    with db.connect(conninfo, "bankdb retention") as conn:
        db.become_owner(conn)
        db.stable_text(conn)
        for name in expired(conn, keep_months, today or datetime.date.today()):
            table = sql.Identifier("bank_partitions", name)
            with conn.transaction():
                conn.execute(sql.SQL("ALTER TABLE bank.transactions DETACH PARTITION {}").format(table))
            rows, checksum = db.rows_and_checksum(conn, table)
            target = directory / f"{name}.copy"
            digest = hashlib.sha256()
            with target.open("wb") as f, conn.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(table)) as copy:
                for block in copy:
                    f.write(block)
                    digest.update(block)
            manifest = {"partition": name, "rows": rows, "checksum": checksum, "sha256": digest.hexdigest()}
            # Proof before deletion: the file, loaded back, holds the same rows.
            with conn.transaction():
                conn.execute(sql.SQL("CREATE TEMPORARY TABLE retention_check (LIKE {}) ON COMMIT DROP").format(table))
                with target.open("rb") as f, conn.cursor().copy("COPY retention_check FROM STDIN") as copy:
                    while block := f.read(1 << 20):
                        copy.write(block)
                again = db.rows_and_checksum(conn, sql.Identifier("retention_check"))
            if (again[0], again[1]) != (rows, checksum):
                raise RetentionError(
                    f"{target} does not hold what {name} held ({again[0]} rows, not {rows}): the partition is "
                    "detached but kept; re-attach it or archive it again"
                )
            (directory / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
            conn.execute(sql.SQL("DROP TABLE {}").format(table))
            out(f"  {name}: {rows} rows archived to {target.name}, verified, dropped")
            archived.append(target)
    return archived
