"""bankdb import: a bank statement (CSV or OFX) into one account of a user, as one import batch.

The file's rows are read into text only; the database checks them (api.import_transactions) and
names the rule each bad row breaks, with its line. The rows are imported by one call of
api.import_transactions, as bank_app acting for the user, so every guarantee of the import API
holds. A row the reader cannot make sense of (a CSV line with the
wrong number of fields, an OFX transaction ofxtools refuses) is staged as `unreadable` and becomes
that row's rejection: never a traceback, never a silently skipped row.
"""

from __future__ import annotations

import copy
import csv
import datetime
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb
from ofxtools.header import OFXHeaderError
from ofxtools.models.bank.stmt import STMTTRN
from ofxtools.Parser import OFXTree, ParseError
from ofxtools.Types import OFXSpecError

from bankdb import db

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class ImportFileError(Exception):
    """The file, its options or the login cannot be used at all (nothing was imported)."""


@dataclass
class CsvMapping:
    """Which CSV column holds what; names as in the header row."""

    date: str = "Date"
    date_format: str = "%Y-%m-%d"
    amount: str | None = "Amount"
    debit: str | None = None
    credit: str | None = None
    description: list[str] = field(default_factory=lambda: ["Description"])
    merchant: str | None = None
    posted_date: str | None = None
    external_id: str | None = None
    currency: str | None = None
    category: str | None = None
    delimiter: str = ","
    decimal_comma: bool = False
    encoding: str = "utf-8-sig"

    def columns(self) -> dict[str, str]:
        """field -> the column(s) it is read from, for the dry run and the check against the header."""
        mapped = {"txn_date": f"{self.date} ({self.date_format})", "description": " + ".join(self.description)}
        if self.debit or self.credit:
            mapped["amount"] = f"-{self.debit} / +{self.credit}"
        else:
            mapped["amount"] = str(self.amount)
        for name in ("merchant", "posted_date", "external_id", "currency", "category"):
            if getattr(self, name):
                mapped[name] = getattr(self, name)
        return mapped

    def needed(self) -> list[str]:
        names = [self.date, *self.description, self.merchant, self.posted_date, self.external_id, self.currency,
                 self.category]
        names += [self.debit, self.credit] if (self.debit or self.credit) else [self.amount]
        return [n for n in names if n]


@dataclass
class Outcome:
    """What an import did (or, refused or dry, would have done)."""

    batch_id: int | None
    inserted: int
    duplicates: int
    rejected: int
    rejections: list[dict]
    refused: bool = False  # all or none, and a row was rejected: nothing was imported


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_format(path: Path, given: str | None) -> str:
    if given:
        return given
    return "ofx" if path.suffix.lower() in (".ofx", ".qfx") else "csv"


# -- reading -------------------------------------------------------------------------------------


def _amount(raw: str, decimal_comma: bool) -> str:
    """A bank's way of writing an amount, as a plain decimal when it is one (else as written, for the
    database to reject with its rule): 1,234.56 / 1.234,56 with --decimal-comma / (12.50) / 12.50-."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    elif text.endswith("-") and not text.startswith("-"):
        text = "-" + text[:-1]
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    return text if NUMBER.fullmatch(text) else raw.strip()


def _date(raw: str, date_format: str) -> str:
    try:
        return datetime.datetime.strptime(raw.strip(), date_format).date().isoformat()
    except ValueError:
        return raw.strip()  # the database rejects it, naming the value


def read_csv(data: bytes, mapping: CsvMapping) -> list[dict]:
    try:
        text = data.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ImportFileError(f"cannot read the file as {mapping.encoding}: {exc} (give --encoding)") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("the CSV file is empty: no header row") from None
    except csv.Error as exc:
        raise ImportFileError(f"the CSV header cannot be read: {exc}") from None
    missing = [c for c in mapping.needed() if c not in header]
    if missing:
        raise ImportFileError(
            f"the CSV header has no column {', '.join(map(repr, missing))}; it has: {', '.join(map(repr, header))}"
            f" (map the columns with --date, --amount or --debit/--credit, --description, ...;"
            f" --delimiter {mapping.delimiter!r} was used)"
        )
    rows: list[dict] = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append({"line": reader.line_num, "unreadable": f"CSV: {exc}"})
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # a blank line, as many exports end with
        if len(record) != len(header):
            rows.append({"line": line, "unreadable": f"{len(record)} fields where the header has {len(header)}"})
            continue
        rows.append(_csv_row(dict(zip(header, record)), line, mapping))
    return rows


def _csv_row(cells: dict[str, str], line: int, mapping: CsvMapping) -> dict:
    row: dict = {"line": line, "txn_date": _date(cells[mapping.date], mapping.date_format)}
    description = " ".join(cells[c].strip() for c in mapping.description if cells[c].strip())
    row["description"] = description or None
    if mapping.debit or mapping.credit:
        debit = cells.get(mapping.debit, "").strip() if mapping.debit else ""
        credit = cells.get(mapping.credit, "").strip() if mapping.credit else ""
        if debit and credit:
            row["unreadable"] = f"both {mapping.debit} ({debit}) and {mapping.credit} ({credit}) hold an amount"
        elif debit:
            amount = _amount(debit, mapping.decimal_comma)
            row["amount"] = amount if amount.startswith("-") or not NUMBER.fullmatch(amount) else "-" + amount
        elif credit:
            row["amount"] = _amount(credit, mapping.decimal_comma)
    else:
        row["amount"] = _amount(cells[mapping.amount], mapping.decimal_comma) or None
    for name in ("merchant", "external_id", "currency", "category"):
        column = getattr(mapping, name)
        if column and cells[column].strip():
            row[name] = cells[column].strip()
    if mapping.posted_date and cells[mapping.posted_date].strip():
        row["posted_date"] = _date(cells[mapping.posted_date], mapping.date_format)
    return row


def _ofx_date(raw: str | None) -> str | None:
    """The bank's own calendar date: the first eight digits of an OFX datetime. ofxtools converts
    the whole value to UTC, which moves 23:00 EST into the next day; the booking date is the bank's."""
    if raw and re.match(r"\d{8}(\d{6}(\.\d{3})?)?(\[[^]]*\])?$", raw):
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"
    return raw


def read_ofx(data: bytes) -> list[dict]:
    """The transactions of the file's one bank or card statement, parsed by ofxtools (OFX 1.x SGML
    and 2.x XML); each STMTTRN is also converted by ofxtools' model, and one it refuses is unreadable."""
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except (OFXHeaderError, ParseError, ET.ParseError, ValueError, IndexError) as exc:
        raise ImportFileError(f"not an OFX file ofxtools can read: {exc}") from None
    root = tree.getroot()
    statements = [s for tag in ("STMTRS", "CCSTMTRS") for s in root.iter(tag)]
    if len(statements) != 1:
        accounts = [a.findtext("ACCTID") for s in statements for a in s if a.tag.endswith("ACCTFROM")]
        raise ImportFileError(
            f"the OFX file holds {len(statements)} statements ({', '.join(filter(None, accounts)) or 'none'}):"
            " bankdb import takes one account's statement"
        )
    statement = statements[0]
    currency = (statement.findtext("CURDEF") or "").strip() or None
    rows = []
    for number, element in enumerate(statement.iter("STMTTRN"), start=1):
        raw = {child.tag: (child.text or "").strip() for child in element}
        name, memo = raw.get("NAME") or raw.get("PAYEE"), raw.get("MEMO")
        row = {
            "line": number,
            "txn_date": _ofx_date(raw.get("DTPOSTED")),
            "amount": _amount(raw["TRNAMT"], decimal_comma="," in raw["TRNAMT"]) if raw.get("TRNAMT") else None,
            "description": " / ".join(filter(None, (name, memo))) or None,
            "merchant": name[:100] if name else None,
            "external_id": raw.get("FITID") or None,
            "currency": currency,
        }
        try:
            STMTTRN.from_etree(copy.deepcopy(element))
        except (OFXSpecError, ValueError, TypeError, KeyError, IndexError) as exc:
            row["unreadable"] = f"OFX: {exc}"
        rows.append(row)
    return rows


# -- importing -----------------------------------------------------------------------------------


def run(conninfo: str, rows: list[dict], user_id: int, account_id: int, source: str, sha256: str | None,
        partial: bool, dry_run: bool) -> Outcome:
    """Import the rows in one call of api.import_transactions, in one transaction, as bank_app acting
    for the user; a dry run rolls it back. An all-or-none import with a rejected row is refused by the
    database (BKIM1): its rejections are returned and nothing is written. (api.import_staged would
    take the rows by COPY, but bank_app may create temporary tables only after a DBA's one-time grant.)"""
    with db.connect(conninfo, "bankdb import", autocommit=False) as conn:
        login = conn.execute("SELECT current_user::text, pg_has_role(current_user, 'bank_app', 'MEMBER')").fetchone()
        if not login[1]:
            raise ImportFileError(
                f"bankdb import acts as the application role bank_app, and the login {login[0]} is not a member"
                f" of it (a DBA can GRANT bank_app TO {login[0]})"
            )
        conn.execute("SET LOCAL ROLE bank_app")
        conn.execute("SELECT api.set_user(%s)", (user_id,))
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        try:
            batch = cur.execute(
                "SELECT * FROM api.import_transactions(%s, %s, %s, %s, %s)",
                (account_id, Jsonb([{k: v for k, v in row.items() if v is not None} for row in rows]), source,
                 sha256, partial),
            ).fetchone()
        except psycopg.Error as exc:
            conn.rollback()
            if exc.sqlstate != "BKIM1":
                raise
            rejections = json.loads(exc.diag.message_detail or "[]")
            return Outcome(None, 0, 0, len(rejections), rejections, refused=True)
        if dry_run:
            conn.rollback()
        else:
            conn.commit()
    return Outcome(batch["id"], batch["inserted_count"], batch["duplicate_count"], batch["rejected_count"],
                   batch["rejections"])
