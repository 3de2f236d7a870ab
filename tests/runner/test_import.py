"""`bankdb import` on statements as banks export them (tests/fixtures/statements), as a DBA runs it."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from bankdb import importer

from ..conftest import REPO
from ..helpers import insert, make_account, make_user
from .test_cli import bankdb, database_url

STATEMENTS = REPO / "tests" / "fixtures" / "statements"
GIRO = ["--delimiter", ";", "--date", "Buchungstag", "--date-format", "%d.%m.%Y", "--amount", "Betrag",
        "--decimal-comma", "--description", "Auftraggeber/Empfänger", "--description", "Verwendungszweck",
        "--merchant", "Auftraggeber/Empfänger", "--currency", "Währung"]
US = ["--date", "Transaction Date", "--date-format", "%m/%d/%Y", "--debit", "Debit", "--credit", "Credit",
      "--id", "Transaction ID", "--category", "Category", "--posted-date", "Post Date"]


@pytest.fixture
def target(server, db: str) -> dict:
    """A USD user with a USD and an EUR account, a rule ('market' -> Groceries), in a database of its own."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)"
                     " VALUES ('EUR', 'USD', '2025-01-01', 1.08)")
        user = make_user(conn, "statements@example.com")
        usd = make_account(conn, user["id"], masked_account="****1234")
        eur = make_account(conn, user["id"], "EUR", masked_account="****3000")
        insert(conn, "category_rules", user_id=user["id"], category="Groceries", keyword_pattern="market")
    return {"url": database_url(server, db), "db": db, "user": str(user["id"]), "usd": str(usd["id"]),
            "eur": str(eur["id"])}


def rows(db: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def run(target: dict, file: str, account: str, *options: str):
    return bankdb("import", str(STATEMENTS / file), "--user", target["user"], "--account", target[account],
                  *options, url=target["url"])


def test_an_ofx_1_statement_imports_once_with_its_bad_row_reported(target) -> None:
    refused = run(target, "checking-2025-03.ofx", "usd")
    assert refused.returncode == 1
    assert "  rejected row 5: transactions_amount_scale_check: amount has more than the 2 decimal(s) its currency" \
           " allows (-12.001 USD)\n" in refused.stdout
    assert "Refused (all or none): 1 row(s) rejected, nothing imported." in refused.stdout
    assert rows(target["db"], "SELECT count(*) FROM bank.transactions") == [(0,)]

    partial = run(target, "checking-2025-03.ofx", "usd", "--partial")
    assert partial.returncode == 1, partial.stderr
    assert "into account %s of user %s: 4 inserted, 0 duplicate(s), 1 rejected.\n" % (
        target["usd"], target["user"]) in partial.stdout
    assert rows(target["db"], "SELECT txn_date::text, amount::text, txn_type::text, category, external_id"
                " FROM bank.transactions ORDER BY txn_date") == [
        ("2025-03-03", "54.23", "debit", "Groceries", "202503030001"),
        # 23:00 EST is the next day in UTC; the booking date is the bank's own.
        ("2025-03-05", "3.75", "debit", None, "202503050002"),
        ("2025-03-14", "2450.00", "credit", None, "202503140003"),
        ("2025-03-20", "1200.00", "debit", None, "202503200004"),
    ]
    assert rows(target["db"], "SELECT spending, income FROM bank.monthly_totals WHERE category = 'Other'") == [
        (Decimal("1203.75"), Decimal("2450.00"))]

    again = run(target, "checking-2025-03.ofx", "usd", "--partial")
    assert again.returncode == 1
    assert again.stderr.startswith('bankdb: duplicate key value violates unique constraint'
                                   ' "import_batches_file_sha256_key" (SQLSTATE 23505) The file (sha256 ')
    assert "Traceback" not in again.stderr
    assert rows(target["db"], "SELECT count(*) FROM bank.transactions") == [(4,)]


def test_an_ofx_2_statement_in_another_currency_reports_the_row_ofxtools_refuses(target) -> None:
    result = run(target, "card-2025-03.ofx", "eur", "--partial")
    assert result.returncode == 1
    assert "  rejected row 4: import_row_format: the file's reader could not read the row (OFX: Can't set" \
           " STMTTRN.dtposted to 2025031" in result.stdout
    # Two identical card payments with their own bank ids are two transactions.
    assert rows(target["db"], "SELECT description, amount::text, currency, base_amount::text"
                " FROM bank.transactions ORDER BY txn_date, id") == [
        ("SUPERMARKT NORD / Kartenzahlung", "23.40", "EUR", "25.27"),
        ("SUPERMARKT NORD / Kartenzahlung", "23.40", "EUR", "25.27"),
        ("Erstattung Versicherung", "150.00", "EUR", "162.00"),
    ]


def test_a_german_csv_with_comma_decimals_imports_and_reports_each_bad_line(target) -> None:
    result = run(target, "giro-2025-03.csv", "eur", *GIRO, "--partial")
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if line.startswith("  rejected")] == [
        "  rejected row 6: import_txn_date_format: txn_date must be a calendar date written YYYY-MM-DD (31.02.2025)",
        "  rejected row 7: import_amount_format: amount must be a decimal number (at most 15 digits before the"
        " point, a dot for decimals) (-2,5x)",
        "  rejected row 8: import_row_format: the file's reader could not read the row (3 fields where the header"
        " has 6)",
    ]
    assert "4 inserted, 0 duplicate(s), 3 rejected." in result.stdout
    assert rows(target["db"], "SELECT description, amount::text, txn_type::text FROM bank.transactions"
                " ORDER BY txn_date, id") == [
        ("Supermarkt Nord GmbH Kartenzahlung; Filiale 12", "23.40", "debit"),
        ("Supermarkt Nord GmbH Kartenzahlung; Filiale 12", "23.40", "debit"),  # two purchases, one day
        ("Arbeitgeber AG Gehalt März", "2450.00", "credit"),
        ("Stadtwerke Abschlag Strom", "85.00", "debit"),
    ]
    # A later export of the same month (another file) brings nothing twice.
    later = importer.read_csv((STATEMENTS / "giro-2025-03.csv").read_bytes(), importer.CsvMapping(
        date="Buchungstag", date_format="%d.%m.%Y", amount="Betrag", decimal_comma=True, delimiter=";",
        description=["Auftraggeber/Empfänger", "Verwendungszweck"], currency="Währung"))
    outcome = importer.run(target["url"], later[:4], int(target["user"]), int(target["eur"]), "again", None,
                           partial=False, dry_run=False)
    assert (outcome.inserted, outcome.duplicates, outcome.rejected) == (0, 4, 0)


def test_a_us_csv_with_debit_and_credit_columns_and_a_dry_run(target) -> None:
    dry = run(target, "checking-2025-03.csv", "usd", *US, "--dry-run")
    assert dry.returncode == 1
    assert "  amount       <- -Debit / +Credit\n" in dry.stdout
    assert "  line=2, txn_date=2025-03-03, description=GREEN MARKET #112, SPRINGFIELD, amount=-54.23," \
           " external_id=T-1001, category=Groceries, posted_date=2025-03-04\n" in dry.stdout
    assert "  rejected row 6: transactions_category_fkey: category is not a known category (Fashion)\n" in dry.stdout
    assert rows(target["db"], "SELECT count(*) FROM bank.transactions") == [(0,)]

    result = run(target, "checking-2025-03.csv", "usd", *US, "--partial", "--dry-run")
    assert "Would import (dry run, nothing written) into account" in result.stdout
    assert "4 inserted, 0 duplicate(s), 1 rejected." in result.stdout
    assert rows(target["db"], "SELECT count(*) FROM bank.transactions") == [(0,)]

    done = run(target, "checking-2025-03.csv", "usd", *US, "--partial")
    assert done.returncode == 1
    assert rows(target["db"], "SELECT description, amount::text, txn_type::text, posted_date::text"
                " FROM bank.transactions ORDER BY txn_date") == [
        ("GREEN MARKET #112, SPRINGFIELD", "54.23", "debit", "2025-03-04"),
        ("BEAN THERE CAFE", "3.75", "debit", "2025-03-06"),
        ('ACME CORP PAYROLL "DIRECT DEP"', "2450.00", "credit", "2025-03-14"),
        ("CHECK 1043", "1200.00", "debit", "2025-03-20"),
    ]


def test_a_mapping_the_header_lacks_is_named_before_anything_is_written(target) -> None:
    result = run(target, "checking-2025-03.csv", "usd")
    assert result.returncode == 1
    assert result.stderr == (
        "bankdb: the CSV header has no column 'Date', 'Amount'; it has: 'Transaction Date',"
        " 'Post Date', 'Description', 'Category', 'Debit', 'Credit', 'Transaction ID' (map the columns with --date,"
        " --amount or --debit/--credit, --description, ...; --delimiter ',' was used)\n"
    )


def test_a_file_that_is_no_ofx_fails_cleanly(target, tmp_path) -> None:
    broken = tmp_path / "broken.ofx"
    broken.write_text("OFXHEADER:100\nnot really\n")
    result = bankdb("import", str(broken), "--user", target["user"], "--account", target["usd"], url=target["url"])
    assert result.returncode == 1
    assert result.stderr.startswith("bankdb: not an OFX file ofxtools can read: ")
    assert "Traceback" not in result.stderr


def test_a_clean_statement_exits_zero(target) -> None:
    result = run(target, "checking-2025-03.csv", "usd", *US[:-4])  # without the category column
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 inserted, 0 duplicate(s), 0 rejected." in result.stdout
