"""The import API: api.import_transactions, api.import_staged and api.undo_import, as an application.

Every test acts as bank_app for a user (api.set_user first), as an application would.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import psycopg
import pytest
from psycopg.types.json import Jsonb

from ..helpers import insert, make_account, make_user, value
from ..security.conftest import acting
from ..security.test_hostile_writes import snapshot

SHA = "a" * 64
COLUMNS = ("description", "category", "category_rule_id", "is_categorized", "amount", "currency", "txn_type",
           "merchant", "txn_date", "posted_date", "external_id", "kind", "fx_rate", "base_amount")


@pytest.fixture
def user(conn: psycopg.Connection) -> dict:
    """A USD user with two accounts, a rule ('market' -> Groceries), a Groceries budget for March 2025, and
    another user B with an account."""
    conn.execute("INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)"
                 " VALUES ('EUR', 'USD', '2025-01-01', 1.1), ('USD', 'JPY', '2025-01-01', 151.37)")
    u = make_user(conn, "importer@example.com")
    u["account"] = make_account(conn, u["id"])["id"]
    u["other_account"] = make_account(conn, u["id"], masked_account="****2222")["id"]
    u["rule"] = insert(conn, "category_rules", user_id=u["id"], category="Groceries", keyword_pattern="market")["id"]
    insert(conn, "budgets", user_id=u["id"], year=2025, month=3, category="Groceries", limit_amount="100")
    b = make_user(conn, "b@example.com")
    u["b_account"] = make_account(conn, b["id"], masked_account="****3333")["id"]
    return u


def import_rows(conn: psycopg.Connection, account: int, rows: list, source: str = "test.json",
                sha: str | None = None, partial: bool = False) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT * FROM api.import_transactions(%s, %s, %s, %s, %s)", (account, Jsonb(rows), source, sha, partial)
    ).fetchone()


def stored(conn: psycopg.Connection, account: int) -> list[tuple]:
    return conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM bank.transactions WHERE account_id = %s ORDER BY txn_date, id", (account,)
    ).fetchall()


def totals(conn: psycopg.Connection) -> tuple[list, list]:
    """Monthly totals (a row whose transactions were all deleted stays, at zero, as after any delete) and budgets."""
    return (
        conn.execute("SELECT month, category, spending, income, txn_count FROM bank.monthly_totals"
                     " WHERE (spending, income, txn_count) <> (0, 0, 0) ORDER BY 1, 2").fetchall(),
        conn.execute("SELECT year, month, category, spent_amount FROM bank.budgets ORDER BY 1, 2, 3").fetchall(),
    )


ROWS = [
    {"txn_date": "2025-03-05", "amount": "-12.5", "description": "Corner Market", "merchant": "Corner"},
    {"txn_date": "2025-03-05", "amount": "-3.20", "description": "Coffee"},
    {"txn_date": "2025-03-06", "amount": "40", "description": "Refund", "currency": "EUR"},
    {"txn_date": "2025-03-07", "amount": "500", "txn_type": "debit", "description": "Rent", "category": "Utilities"},
    {"txn_date": "2025-04-01", "amount": "-900", "description": "Hotel", "currency": "JPY", "external_id": "J1"},
    {"txn_date": "2025-03-08", "amount": "2500.00", "description": "Salary", "txn_type": "credit",
     "category": "Salary", "posted_date": "2025-03-09"},
]


def direct(row: dict) -> dict:
    """The direct insert of an import row: positive amount, txn_type from the sign."""
    amount = Decimal(row["amount"])
    return {
        "description": row["description"], "amount": abs(amount), "currency": row.get("currency", "USD"),
        "txn_type": row.get("txn_type", "debit" if amount < 0 else "credit"), "merchant": row.get("merchant"),
        "txn_date": row["txn_date"], "posted_date": row.get("posted_date"), "category": row.get("category"),
        "external_id": row.get("external_id"),
    }


def test_an_import_stores_what_direct_inserts_store_with_the_same_totals_and_budgets(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        with conn.transaction(force_rollback=True):
            for row in ROWS:
                columns = direct(row)
                conn.execute(
                    f"INSERT INTO bank.transactions (account_id, {', '.join(columns)})"
                    f" VALUES (%s, {', '.join(['%s'] * len(columns))})", (user["account"], *columns.values()),
                )
            expected_rows, expected_totals = stored(conn, user["account"]), totals(conn)
        batch = import_rows(conn, user["account"], ROWS)
        assert (batch["inserted_count"], batch["duplicate_count"], batch["rejected_count"]) == (6, 0, 0)
        assert batch["rejections"] == []
        assert stored(conn, user["account"]) == expected_rows
        assert totals(conn) == expected_totals
        # Categorized by the rule, converted at its currency's scale, in the budget.
        assert expected_rows[0][:5] == ("Corner Market", "Groceries", user["rule"], True, Decimal("12.50"))
        assert value(conn, "SELECT spent_amount FROM bank.budgets WHERE category = 'Groceries'") == Decimal("12.50")
        assert value(conn, "SELECT count(*) FROM bank.transactions WHERE import_batch_id = %s",
                     (batch["id"],)) == 6
        # The text of every stored value is the same too (1.5 and 1.50 are equal but not the same).
        assert [tuple(map(str, r)) for r in stored(conn, user["account"])] == [
            tuple(map(str, r)) for r in expected_rows
        ]


def test_an_application_setting_the_import_flag_still_gets_its_derived_columns_recomputed(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        conn.execute("SELECT set_config('bank.import', 'on', TRUE)")
        txn = conn.execute(
            "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date, fx_rate,"
            " base_amount, category_rule_id, is_categorized)"
            " VALUES (%s, 'Market', 10, 'EUR', 'debit', '2025-03-05', 42, 1000000, NULL, FALSE) RETURNING id",
            (user["account"],),
        ).fetchone()[0]
        assert conn.execute(
            "SELECT amount::text, fx_rate, base_amount, category, category_rule_id, is_categorized"
            " FROM bank.transactions WHERE id = %s", (txn,),
        ).fetchone() == ("10.00", Decimal("1.1"), Decimal("11.00"), "Groceries", user["rule"], True)
        # And a bank id it writes is kept in the per-account key.
        conn.execute("UPDATE bank.transactions SET external_id = 'X9' WHERE id = %s", (txn,))
        assert conn.execute("SELECT external_id, transaction_id FROM bank.transaction_external_ids").fetchall() == [
            ("X9", txn)
        ]


def test_a_bank_id_is_a_duplicate_whatever_its_booking_date_became(conn, user) -> None:
    row = {"txn_date": "2025-03-05", "amount": "-12.50", "description": "Corner Market", "external_id": "B1"}
    with acting(conn, "bank_app", user["id"]):
        import_rows(conn, user["account"], [row])
        # The bank re-books it a month later; the same statement line comes again.
        conn.execute("UPDATE bank.transactions SET txn_date = '2025-04-02' WHERE external_id = 'B1'")
        again = import_rows(conn, user["account"], [row, {**row, "txn_date": "2025-05-01"}])
        assert (again["inserted_count"], again["duplicate_count"]) == (0, 2)
        assert value(conn, "SELECT count(*) FROM bank.transactions WHERE external_id = 'B1'") == 1
        # The same bank id in another account is another transaction.
        other = import_rows(conn, user["other_account"], [row])
        assert other["inserted_count"] == 1


def test_a_direct_write_of_a_bank_id_the_account_holds_under_another_date_is_refused(conn, user) -> None:
    insert_ = ("INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date,"
               " external_id) VALUES (%s, 'x', 1, 'USD', 'debit', %s, %s) RETURNING id")
    with acting(conn, "bank_app", user["id"]):
        first = conn.execute(insert_, (user["account"], "2025-03-05", "D1")).fetchone()[0]
        before = snapshot(conn)
        with pytest.raises(psycopg.errors.UniqueViolation) as failure, conn.transaction():
            conn.execute(insert_, (user["account"], "2025-04-05", "D1"))
        assert failure.value.diag.constraint_name == "transaction_external_ids_pkey"
        assert snapshot(conn) == before
        # A multi-row insert keeps working, and each bank id is kept; a delete frees it.
        conn.execute(
            "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date, external_id)"
            " VALUES (%(a)s, 'y', 2, 'USD', 'debit', '2025-03-06', 'D2'), (%(a)s, 'z', 3, 'USD', 'credit',"
            " '2025-03-07', NULL)", {"a": user["account"]},
        )
        held = "SELECT array_agg(external_id ORDER BY external_id) FROM bank.transaction_external_ids"
        assert value(conn, held) == ["D1", "D2"]
        conn.execute("DELETE FROM bank.transactions WHERE id = %s", (first,))
        assert value(conn, held) == ["D2"]
        conn.execute(insert_, (user["account"], "2025-04-05", "D1"))
        conn.execute("UPDATE bank.transactions SET external_id = 'D3' WHERE external_id = 'D2'")
        assert value(conn, held) == ["D1", "D3"]


def test_identical_purchases_on_one_day_each_import_once(conn, user) -> None:
    coffee = {"txn_date": "2025-03-05", "amount": "-3.20", "description": "Coffee Shop"}
    with acting(conn, "bank_app", user["id"]):
        first = import_rows(conn, user["account"], [coffee, {**coffee, "description": " coffee  SHOP"}])
        assert (first["inserted_count"], first["duplicate_count"]) == (2, 0)
        again = import_rows(conn, user["account"], [coffee, coffee])
        assert (again["inserted_count"], again["duplicate_count"]) == (0, 2)
        # A later statement with a third one that day: only the third is new.
        later = import_rows(conn, user["account"], [coffee, coffee, coffee, {**coffee, "amount": "-3.30"}])
        assert (later["inserted_count"], later["duplicate_count"]) == (2, 2)
        assert value(conn, "SELECT count(*) FROM bank.transactions WHERE description ILIKE '%%coffee%%'") == 4


def test_a_fingerprint_compares_the_amount_by_value(conn, user) -> None:
    # The fingerprint has no currency: 900 yen held and 900.00 in the account's dollars are one amount.
    with acting(conn, "bank_app", user["id"]):
        conn.execute("INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                     " VALUES (%s, 'Hotel', 900, 'JPY', 'debit', '2025-04-01')", (user["account"],))
        batch = import_rows(conn, user["account"], [
            {"txn_date": "2025-04-01", "amount": "-900.00", "description": " HOTEL"},
            {"txn_date": "2025-04-01", "amount": "-900.01", "description": "Hotel"},
        ])
    assert (batch["inserted_count"], batch["duplicate_count"]) == (1, 1)


def test_a_file_already_imported_is_refused_by_its_key_and_changes_nothing(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        batch = import_rows(conn, user["account"], ROWS[:1], source="march.csv", sha=SHA)
        before = snapshot(conn), value(conn, "SELECT count(*) FROM bank.import_batches")
        with pytest.raises(psycopg.errors.UniqueViolation) as failure, conn.transaction():
            import_rows(conn, user["account"], ROWS[1:2], source="march-again.csv", sha=SHA)
        after = snapshot(conn), value(conn, "SELECT count(*) FROM bank.import_batches")
        # The same file into another account is another import.
        assert import_rows(conn, user["other_account"], ROWS[:1], sha=SHA)["inserted_count"] == 1
    error = failure.value
    assert error.diag.constraint_name == "import_batches_file_sha256_key"
    assert error.diag.message_primary == 'duplicate key value violates unique constraint "import_batches_file_sha256_key"'
    assert error.diag.message_detail.startswith(
        f"The file (sha256 {SHA}) was imported into account {user['account']} as batch {batch['id']} (march.csv)"
    )
    assert after == before


def test_an_account_that_is_not_the_users_is_refused_as_a_direct_insert_is(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        before = snapshot(conn)
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as failure, conn.transaction():
            import_rows(conn, user["b_account"], ROWS)
        assert snapshot(conn) == before
    assert failure.value.diag.constraint_name == "transactions_user_id_account_id_fkey"
    assert failure.value.diag.message_detail == (
        f'Key (user_id, account_id)=({user["id"]}, {user["b_account"]}) is not present in table "accounts".'
    )


def test_without_an_acting_user_the_import_fails_clearly(conn, user) -> None:
    for call in ("SELECT api.import_transactions(%s, '[]', 'x')", "SELECT api.import_staged(%s, 'x')"):
        with acting(conn, "bank_app", None):
            with pytest.raises(psycopg.Error) as failure, conn.transaction():
                conn.execute(call, (user["account"],))
        assert failure.value.sqlstate == "BKUS1"


GOOD = {"txn_date": "2025-03-05", "amount": "-1.00", "description": "ok"}
TODAY = datetime.date.today()
# (case, the bad row, its rule, the value reported)
BAD = [
    ("another user's account", {**GOOD, "account_id": "{b_account}"}, "transactions_user_id_account_id_fkey",
     "{b_account}"),
    ("another account of the user", {**GOOD, "account_id": "{other_account}"}, "import_row_account_check",
     "{other_account}"),
    ("amount NaN", {**GOOD, "amount": "NaN"}, "transactions_amount_finite_check", "NaN"),
    ("amount Infinity", {**GOOD, "amount": "-Infinity"}, "transactions_amount_finite_check", "-Infinity"),
    ("amount with a tenth of a cent", {**GOOD, "amount": "1.005"}, "transactions_amount_scale_check", "1.005 USD"),
    ("yen with decimals", {**GOOD, "amount": "1.5", "currency": "JPY"}, "transactions_amount_scale_check",
     "1.5 JPY"),
    ("amount with a decimal comma", {**GOOD, "amount": "12,50"}, "import_amount_format", "12,50"),
    ("amount of 16 digits", {**GOOD, "amount": "1" * 16}, "import_amount_format", "1" * 16),
    ("amount zero", {**GOOD, "amount": "0.00"}, "transactions_amount_check", "0.00"),
    ("negative amount with a txn_type", {**GOOD, "txn_type": "debit"}, "transactions_amount_check", "-1.00"),
    ("unknown currency", {**GOOD, "currency": "XYZ"}, "transactions_currency_fkey", "XYZ"),
    ("currency without a rate", {**GOOD, "currency": "GBP"}, "exchange_rate_missing", "GBP"),
    ("unknown category", {**GOOD, "category": "Yachts"}, "transactions_category_fkey", "Yachts"),
    ("date past the window", {**GOOD, "txn_date": str(TODAY + datetime.timedelta(days=32))},
     "import_txn_date_window", str(TODAY + datetime.timedelta(days=32))),
    ("date before 1970", {**GOOD, "txn_date": "1969-12-31"}, "import_txn_date_window", "1969-12-31"),
    ("no such day", {**GOOD, "txn_date": "2025-02-29"}, "import_txn_date_format", "2025-02-29"),
    ("date in another format", {**GOOD, "txn_date": "05/03/2025"}, "import_txn_date_format", "05/03/2025"),
    ("no date", {"amount": "1", "description": "x"}, "import_txn_date_format", None),
    ("bad posted date", {**GOOD, "posted_date": "tomorrow"}, "import_posted_date_format", "tomorrow"),
    ("unknown txn_type", {**GOOD, "amount": "1", "txn_type": "refund"}, "import_txn_type_format", "refund"),
    ("no description", {"txn_date": "2025-03-05", "amount": "1"}, "transactions_description_check", None),
    ("invisible description", {**GOOD, "description": "\u200b"}, "transactions_description_visible_check",
     "\u200b"),
    ("merchant too long", {**GOOD, "merchant": "m" * 101}, "transactions_merchant_check", "m" * 101),
    ("a row that is no object", ["2025-03-05", "1"], "import_row_format", '["2025-03-05", "1"]'),
    ("an unknown field", {**GOOD, "amout": "1"}, "import_row_format", "amout"),
    ("a nested field", {**GOOD, "merchant": {"name": "x"}}, "import_row_format", None),
]


def formatted(item: object, ids: dict) -> object:
    if isinstance(item, dict):
        return {k: formatted(v, ids) for k, v in item.items()}
    return item.format(**ids) if isinstance(item, str) else item


@pytest.mark.parametrize(("bad", "rule", "shown"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_row_is_reported_with_its_number_and_rule_and_all_or_none_imports_nothing(
    conn, user, bad, rule: str, shown: str | None
) -> None:
    ids = {"b_account": user["b_account"], "other_account": user["other_account"]}
    rows = [GOOD, {**GOOD, "amount": "-2.00"}, formatted(bad, ids), {**GOOD, "amount": "-3.00"}]
    with acting(conn, "bank_app", user["id"]):
        before = snapshot(conn), value(conn, "SELECT count(*) FROM bank.import_batches")
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            import_rows(conn, user["account"], rows)
        assert (snapshot(conn), value(conn, "SELECT count(*) FROM bank.import_batches")) == before
        partial = import_rows(conn, user["account"], rows, partial=True)
    error = failure.value
    assert error.sqlstate == "BKIM1"
    assert error.diag.message_primary.startswith(f"import refused: 1 of 4 rows rejected, nothing imported (all or none);"
                                                 f" first: row 3: {rule}: ")
    rejections = json.loads(error.diag.message_detail)
    assert [(r["row"], r["rule"]) for r in rejections] == [(3, rule)]
    if shown is not None:
        assert rejections[0]["value"] == formatted(shown, ids)
    assert (partial["inserted_count"], partial["duplicate_count"], partial["rejected_count"]) == (3, 0, 1)
    assert partial["rejections"] == rejections


def test_the_catalogue_of_bad_rows_names_each_case_once() -> None:
    assert len({c[0] for c in BAD}) == len(BAD)


def test_a_row_reports_its_line_when_the_caller_gives_one(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        batch = import_rows(conn, user["account"], [{**GOOD, "line": 7}, {**GOOD, "line": 9, "amount": "x"}],
                            partial=True)
    assert [(r["row"], r["rule"]) for r in batch["rejections"]] == [(9, "import_amount_format")]
    assert batch["rejections"][0]["message"] == (
        "row 9: import_amount_format: amount must be a decimal number (at most 15 digits before the point, a dot for"
        " decimals) (x)"
    )


def test_a_batch_gets_the_partitions_of_its_months(conn, user) -> None:
    partition = ("SELECT EXISTS (SELECT FROM pg_class WHERE relnamespace = 'bank_partitions'::regnamespace"
                 " AND relname = %s)")
    assert value(conn, partition, ("transactions_1999_05",)) is False
    with acting(conn, "bank_app", user["id"]):
        batch = import_rows(conn, user["account"], [{**GOOD, "txn_date": "1999-05-17"}, {**GOOD, "txn_date": "x"}],
                            partial=True)
        assert batch["inserted_count"] == 1
        assert value(conn, partition, ("transactions_1999_05",)) is True
        assert value(conn, partition, ("transactions_1999_06",)) is False


def test_undoing_a_batch_removes_its_rows_and_their_totals_and_frees_its_file(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        conn.execute("INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                     " VALUES (%s, 'Market', 7, 'USD', 'debit', '2025-03-04')", (user["account"],))
        before = stored(conn, user["account"]), totals(conn)
        batch = import_rows(conn, user["account"], ROWS, sha=SHA)
        # A row the user moved to another month since goes with its batch too.
        conn.execute("UPDATE bank.transactions SET txn_date = '2025-05-02' WHERE description = 'Coffee'")
        undone = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
            "SELECT * FROM api.undo_import(%s)", (batch["id"],)).fetchone()
        assert undone == batch
        assert (stored(conn, user["account"]), totals(conn)) == before
        assert value(conn, "SELECT count(*) FROM bank.transaction_external_ids") == 0
        assert value(conn, "SELECT count(*) FROM bank.import_batches") == 0
        assert import_rows(conn, user["account"], ROWS, sha=SHA)["inserted_count"] == 6
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute("SELECT api.undo_import(%s)", (batch["id"],))
    assert failure.value.sqlstate == "BKIM2"
    assert failure.value.diag.message_primary == f"api.undo_import: no import batch {batch['id']} for user {user['id']}"


def test_a_staged_import_reads_the_sessions_temporary_table(conn, user) -> None:
    with acting(conn, "bank_app", user["id"]):
        with pytest.raises(psycopg.errors.UndefinedTable) as failure, conn.transaction():
            conn.execute("SELECT api.import_staged(%s, 'x')", (user["account"],))
        assert failure.value.diag.message_primary == "api.import_staged: no temporary table bank_import_rows in this session"
        conn.execute("CREATE TEMPORARY TABLE bank_import_rows (line bigint, txn_date text, amount text,"
                     " description text, currency text) ON COMMIT DROP")
        with conn.cursor().copy("COPY bank_import_rows FROM STDIN") as copy:
            for line, row in ((3, ("2025-03-05", "-12.50", "Corner Market", None)),
                              (2, ("2025-03-06", "40", "Refund", "EUR")),
                              (4, ("2025-13-01", "1", "x", None))):
                copy.write_row((line, *row))
        batch = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
            "SELECT * FROM api.import_staged(%s, 'statement.csv', %s, TRUE)", (user["account"], SHA)
        ).fetchone()
        assert (batch["source"], batch["file_sha256"], batch["inserted_count"], batch["rejected_count"]) == (
            "statement.csv", SHA, 2, 1)
        assert [(r["row"], r["rule"]) for r in batch["rejections"]] == [(4, "import_txn_date_format")]
        assert [r[:2] for r in stored(conn, user["account"])] == [("Corner Market", "Groceries"), ("Refund", None)]
