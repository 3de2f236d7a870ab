"""Every constraint of the bank schema rejects what it should, names itself, and writes nothing.

Each case starts from a valid row for its table (World.rows) and changes one thing. The last test
reads the catalog: a constraint added later without a case here makes it fail.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from ..conftest import PROJECT
from ..helpers import BCRYPT, count, insert
from .conftest import World

UNIQUE, FK, CHECK, EXCLUSION = "23505", "23503", "23514", "23P01"


def existing(table: str) -> Callable[[World, psycopg.Connection], dict]:
    """Override: the key columns of a row that is already there (a duplicate primary key)."""

    def pick(_: World, conn: psycopg.Connection) -> dict:
        keys = {
            "currencies": ["code"],
            "exchange_rates": ["base_currency", "quote_currency", "rate_date"],
            "transactions": ["user_id", "txn_date", "id"],
            "monthly_totals": ["user_id", "month", "category"],
            "daily_flows": ["user_id", "account_id", "day", "currency"],
            "account_balances": ["user_id", "account_id", "day"],
            "users": ["id"], "category_master": ["id"], "admin_logs": ["id"],
            "transaction_external_ids": ["user_id", "account_id", "external_id"],
            "transaction_tags": ["user_id", "txn_date", "transaction_id", "tag_id"],
            "transaction_splits": ["user_id", "txn_date", "transaction_id", "line_no"],
        }.get(table, ["user_id", "id"])
        row = conn.execute(f"SELECT {', '.join(keys)} FROM bank.{table} LIMIT 1").fetchone()
        return dict(zip(keys, row))

    return pick


def const(**values) -> Callable[[World, psycopg.Connection], dict]:
    return lambda w, c: values


def raw(override: Callable) -> Callable:
    """A case for a column a trigger computes: it runs with triggers off, so the constraint itself is tested."""
    override.raw = True
    return override


def without(trigger: str, override: Callable) -> Callable:
    """A case for a column one trigger derives, with that trigger off and the foreign keys' on."""
    override.without = trigger
    return override


# (constraint, table, override, SQLSTATE)
CASES: list[tuple[str, str, Callable, str]] = [
    ("currencies_pkey", "currencies", existing("currencies"), UNIQUE),
    ("currencies_code_check", "currencies", const(code="usd"), CHECK),
    ("currencies_numeric_code_check", "currencies", const(numeric_code="84"), CHECK),
    ("currencies_minor_unit_check", "currencies", const(minor_unit=5), CHECK),
    ("exchange_rates_pkey", "exchange_rates", existing("exchange_rates"), UNIQUE),
    ("exchange_rates_base_currency_fkey", "exchange_rates", const(base_currency="XXX"), FK),
    ("exchange_rates_quote_currency_fkey", "exchange_rates", const(quote_currency="XXX"), FK),
    ("exchange_rates_check", "exchange_rates", const(quote_currency="USD"), CHECK),
    ("exchange_rates_rate_check", "exchange_rates", const(rate="0"), CHECK),
    ("exchange_rates_rate_finite_check", "exchange_rates", const(rate="NaN"), CHECK),
    ("exchange_rates_rate_finite_check", "exchange_rates", const(rate="Infinity"), CHECK),
    ("category_master_pkey", "category_master", existing("category_master"), UNIQUE),
    ("category_master_name_key", "category_master", const(name="Groceries"), UNIQUE),
    ("category_master_name_check", "category_master", const(name=""), CHECK),
    ("category_master_icon_check", "category_master", const(icon="x" * 51), CHECK),
    ("category_master_color_check", "category_master", const(color="red"), CHECK),
    ("users_pkey", "users", existing("users"), UNIQUE),
    # The same e-mail in other letter case is the same login.
    ("users_email_key", "users", const(email="ALICE@Example.COM"), UNIQUE),
    ("users_base_currency_fkey", "users", const(base_currency="XXX"), FK),
    ("users_name_check", "users", const(name="   "), CHECK),
    ("users_name_visible_check", "users", const(name="\u3000"), CHECK),
    ("users_email_check", "users", const(email="alice.example.com"), CHECK),
    # No plaintext can be stored: only a bcrypt hash fits.
    ("users_password_check", "users", const(password="correct horse battery staple"), CHECK),
    ("users_password_check", "users", const(password=BCRYPT[:-1]), CHECK),
    ("users_phone_check", "users", const(phone="call me"), CHECK),
    ("accounts_pkey", "accounts", existing("accounts"), UNIQUE),
    ("accounts_user_id_fkey", "accounts", const(user_id=999_999_999), FK),
    ("accounts_currency_fkey", "accounts", const(currency="XXX"), FK),
    ("accounts_bank_name_check", "accounts", const(bank_name=""), CHECK),
    ("accounts_masked_account_check", "accounts", const(masked_account="4111111111111111"), CHECK),
    ("accounts_balance_scale_check", "accounts", const(balance="10.001"), CHECK),
    ("accounts_low_balance_threshold_scale_check", "accounts", const(low_balance_threshold="5.001"), CHECK),
    ("accounts_balance_finite_check", "accounts", const(balance="NaN"), CHECK),
    ("accounts_balance_finite_check", "accounts", const(balance="-Infinity"), CHECK),
    ("accounts_low_balance_threshold_finite_check", "accounts", const(low_balance_threshold="Infinity"), CHECK),
    ("accounts_bank_name_visible_check", "accounts", const(bank_name="\u00a0"), CHECK),
    ("transactions_pkey", "transactions", existing("transactions"), UNIQUE),
    ("transactions_account_id_external_id_key", "transactions", const(external_id="ext-1"), UNIQUE),
    # A's transaction on B's account.
    ("transactions_user_id_account_id_fkey", "transactions", lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    ("transactions_currency_fkey", "transactions", const(currency="XXX"), FK),
    ("transactions_category_fkey", "transactions", const(category="Nonexistent"), FK),
    ("transactions_amount_check", "transactions", const(amount="0"), CHECK),
    ("transactions_amount_check", "transactions", const(amount="-5.00"), CHECK),
    ("transactions_description_check", "transactions", const(description=" "), CHECK),
    ("transactions_merchant_check", "transactions", const(merchant="m" * 101), CHECK),
    ("transactions_external_id_check", "transactions", const(external_id=""), CHECK),
    ("transactions_amount_scale_check", "transactions", const(amount="1.005"), CHECK),
    ("transactions_amount_scale_check", "transactions",
     lambda w, c: {"account_id": w.a_jpy["id"], "currency": "JPY", "amount": "1.5"}, CHECK),
    ("transactions_fx_rate_check", "transactions", raw(const(fx_rate="0", base_amount="0")), CHECK),
    # Money is finite: NaN > 0 and Infinity > 0 are true, so the positive checks alone let them in.
    ("transactions_amount_finite_check", "transactions", const(amount="NaN"), CHECK),
    ("transactions_amount_finite_check", "transactions", const(amount="Infinity"), CHECK),
    ("transactions_amount_check", "transactions", const(amount="-Infinity"), CHECK),
    ("transactions_fx_rate_finite_check", "transactions", raw(const(fx_rate="Infinity", base_amount="1")), CHECK),
    ("transactions_base_amount_finite_check", "transactions", raw(const(fx_rate="1", base_amount="NaN")), CHECK),
    # Text with no visible character: a tab, a no-break space and a zero-width space.
    ("transactions_description_visible_check", "transactions", const(description="\t"), CHECK),
    ("transactions_description_visible_check", "transactions", const(description="\u00a0\u200b"), CHECK),
    ("transactions_transfer_id_check", "transactions", const(kind="transfer"), CHECK),
    ("transactions_transfer_id_check", "transactions", const(transfer_id=1), CHECK),
    # category_rule_id is derived by the prepare trigger (an application's value is not kept).
    ("transactions_user_id_category_rule_id_fkey", "transactions", without("_200_prepare", const(category_rule_id=999_999_999, fx_rate="1", base_amount="1")), FK),
    # The bank's id once per account, whatever the date (kept by a trigger; here written directly).
    ("transaction_external_ids_pkey", "transaction_external_ids", existing("transaction_external_ids"), UNIQUE),
    ("transaction_external_ids_user_id_account_id_fkey", "transaction_external_ids",
     lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    ("import_batches_pkey", "import_batches", existing("import_batches"), UNIQUE),
    ("import_batches_file_sha256_key", "import_batches", const(file_sha256="a" * 64), UNIQUE),
    ("import_batches_user_id_account_id_fkey", "import_batches", lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    ("import_batches_source_check", "import_batches", const(source=" "), CHECK),
    ("import_batches_file_sha256_check", "import_batches", const(file_sha256="A" * 64), CHECK),
    ("import_batches_counts_check", "import_batches", const(duplicate_count=-1), CHECK),
    ("import_batches_rejections_check", "import_batches", const(rejections="{}"), CHECK),
    ("statements_pkey", "statements", existing("statements"), UNIQUE),
    ("statements_user_id_account_id_fkey", "statements", lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    # currency is the account's, set by the prepare trigger.
    ("statements_currency_fkey", "statements", without("_200_prepare", const(currency="XXX")), FK),
    ("statements_period_check", "statements", const(period_end="2025-02-28"), CHECK),
    ("statements_opening_balance_scale_check", "statements", const(opening_balance="10.001"), CHECK),
    ("statements_closing_balance_scale_check", "statements",
     lambda w, c: {"account_id": w.a_jpy["id"], "closing_balance": "13.5"}, CHECK),
    ("statements_opening_balance_finite_check", "statements", const(opening_balance="NaN"), CHECK),
    ("statements_closing_balance_finite_check", "statements", const(closing_balance="-Infinity"), CHECK),
    # Two statements of one account whose periods share a day (April's is there).
    ("statements_account_id_period_excl", "statements", const(period_start="2025-03-15", period_end="2025-04-01"),
     EXCLUSION),
    ("recurring_candidates_pkey", "recurring_candidates", existing("recurring_candidates"), UNIQUE),
    ("recurring_candidates_merchant_key_recurrence_currency_key", "recurring_candidates",
     const(recurrence="yearly", next_expected_date="2026-03-05"), UNIQUE),
    ("recurring_candidates_user_id_fkey", "recurring_candidates", const(user_id=999_999_999), FK),
    ("recurring_candidates_currency_fkey", "recurring_candidates", const(currency="XXX"), FK),
    ("recurring_candidates_typical_amount_check", "recurring_candidates", const(typical_amount="0"), CHECK),
    ("recurring_candidates_typical_amount_check", "recurring_candidates", const(typical_amount="NaN"), CHECK),
    ("recurring_candidates_occurrences_check", "recurring_candidates", const(occurrences=1), CHECK),
    ("recurring_candidates_dates_check", "recurring_candidates", const(next_expected_date="2025-03-05"), CHECK),
    ("recurring_candidates_bill_id_check", "recurring_candidates",
     const(status="accepted", decided_at="2025-03-06 10:00+00"), CHECK),
    ("recurring_candidates_decided_at_check", "recurring_candidates", const(decided_at="2025-03-06 10:00+00"), CHECK),
    # A tag's name once per user whatever its case; without space around it; with a visible character.
    ("tags_pkey", "tags", existing("tags"), UNIQUE),
    ("tags_user_id_name_key", "tags", const(name="TRIP"), UNIQUE),
    ("tags_user_id_name_key", "tags", const(name="trip"), UNIQUE),
    ("tags_user_id_fkey", "tags", const(user_id=999_999_999), FK),
    ("tags_name_check", "tags", const(name=""), CHECK),
    ("tags_name_check", "tags", const(name=" Holiday"), CHECK),
    ("tags_name_check", "tags", const(name="x" * 51), CHECK),
    ("tags_name_visible_check", "tags", const(name="\u200b"), CHECK),
    ("transaction_tags_pkey", "transaction_tags", existing("transaction_tags"), UNIQUE),
    ("transaction_tags_user_id_tag_id_fkey", "transaction_tags", const(tag_id=999_999_999), FK),
    ("transaction_tags_user_id_tag_id_fkey", "transaction_tags", lambda w, c: {"user_id": w.b["id"]}, FK),
    # Checked by a trigger as the foreign key would (there is none on the partitioned transactions).
    ("transaction_tags_user_id_txn_date_transaction_id_fkey", "transaction_tags", const(txn_date="2025-03-06"), FK),
    ("transaction_tags_user_id_txn_date_transaction_id_fkey", "transaction_tags",
     const(transaction_id=999_999_999), FK),
    # Split lines (V015): the transaction's key checked by a trigger as the tags' is.
    ("transaction_splits_pkey", "transaction_splits", existing("transaction_splits"), UNIQUE),
    ("transaction_splits_category_fkey", "transaction_splits", const(category="Nonexistent"), FK),
    ("transaction_splits_line_no_check", "transaction_splits", const(line_no=0), CHECK),
    ("transaction_splits_line_no_check", "transaction_splits", const(line_no=101), CHECK),
    ("transaction_splits_amount_check", "transaction_splits", const(amount="0"), CHECK),
    ("transaction_splits_amount_check", "transaction_splits", const(amount="-1.00"), CHECK),
    ("transaction_splits_amount_finite_check", "transaction_splits", const(amount="Infinity"), CHECK),
    ("transaction_splits_amount_finite_check", "transaction_splits", const(amount="NaN"), CHECK),
    ("transaction_splits_amount_scale_check", "transaction_splits", const(amount="1.001"), CHECK),
    ("transaction_splits_base_amount_finite_check", "transaction_splits", const(base_amount="NaN"), CHECK),
    ("transaction_splits_note_check", "transaction_splits", const(note="n" * 201), CHECK),
    ("transaction_splits_user_id_txn_date_transaction_id_fkey", "transaction_splits",
     const(txn_date="2025-03-06"), FK),
    ("transaction_splits_user_id_txn_date_transaction_id_fkey", "transaction_splits",
     const(transaction_id=999_999_999), FK),
    ("monthly_totals_pkey", "monthly_totals", existing("monthly_totals"), UNIQUE),
    ("monthly_totals_user_id_fkey", "monthly_totals", const(user_id=999_999_999), FK),
    ("monthly_totals_category_fkey", "monthly_totals", const(category="Nonexistent"), FK),
    ("monthly_totals_month_check", "monthly_totals", const(month="2025-04-15"), CHECK),
    ("monthly_totals_spending_finite_check", "monthly_totals", const(spending="NaN"), CHECK),
    ("monthly_totals_income_finite_check", "monthly_totals", const(income="-Infinity"), CHECK),
    # Balance history (V014): written by triggers (the transaction and the accounts of the world made a row of each).
    ("daily_flows_pkey", "daily_flows", existing("daily_flows"), UNIQUE),
    ("daily_flows_user_id_account_id_fkey", "daily_flows", lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    ("daily_flows_currency_fkey", "daily_flows", const(currency="XXX"), FK),
    ("daily_flows_credits_finite_check", "daily_flows", const(credits="NaN"), CHECK),
    ("daily_flows_debits_finite_check", "daily_flows", const(debits="-Infinity"), CHECK),
    ("account_balances_pkey", "account_balances", existing("account_balances"), UNIQUE),
    ("account_balances_user_id_account_id_fkey", "account_balances", lambda w, c: {"account_id": w.b_usd["id"]}, FK),
    ("account_balances_currency_fkey", "account_balances", const(currency="XXX"), FK),
    ("account_balances_balance_finite_check", "account_balances", const(balance="Infinity"), CHECK),
    ("budgets_pkey", "budgets", existing("budgets"), UNIQUE),
    ("budgets_user_id_year_month_category_key", "budgets", const(month=3, year=2025), UNIQUE),
    ("budgets_user_id_fkey", "budgets", const(user_id=999_999_999), FK),
    ("budgets_category_fkey", "budgets", const(category="Nonexistent"), FK),
    ("budgets_month_check", "budgets", const(month=13), CHECK),
    ("budgets_month_check", "budgets", const(month=0), CHECK),
    ("budgets_year_check", "budgets", const(year=1999), CHECK),
    ("budgets_limit_amount_check", "budgets", const(limit_amount="0"), CHECK),
    ("budgets_limit_amount_scale_check", "budgets", const(limit_amount="100.005"), CHECK),
    ("budgets_limit_amount_finite_check", "budgets", const(limit_amount="Infinity"), CHECK),
    ("budgets_limit_amount_finite_check", "budgets", const(limit_amount="NaN"), CHECK),
    ("budgets_spent_amount_finite_check", "budgets", raw(const(spent_amount="NaN")), CHECK),
    ("budgets_spent_amount_check", "budgets", raw(const(spent_amount="-1")), CHECK),
    ("budgets_warning_percent_check", "budgets", const(warning_percent=0), CHECK),
    ("budgets_rollover_check", "budgets", const(rollover="sideways"), CHECK),
    ("budgets_rollover_check", "budgets", const(rollover="None"), CHECK),
    ("category_rules_pkey", "category_rules", existing("category_rules"), UNIQUE),
    ("category_rules_user_id_fkey", "category_rules", const(user_id=999_999_999), FK),
    ("category_rules_category_fkey", "category_rules", const(category="Nonexistent"), FK),
    ("category_rules_pattern_check", "category_rules", const(keyword_pattern=None), CHECK),
    ("category_rules_keyword_pattern_check", "category_rules", const(keyword_pattern=""), CHECK),
    ("category_rules_merchant_pattern_check", "category_rules", const(merchant_pattern=""), CHECK),
    ("category_rules_keyword_pattern_regex_check", "category_rules", const(keyword_pattern="[a-"), CHECK),
    ("category_rules_merchant_pattern_regex_check", "category_rules", const(merchant_pattern="(?<"), CHECK),
    ("bills_pkey", "bills", existing("bills"), UNIQUE),
    ("bills_user_id_fkey", "bills", const(user_id=999_999_999), FK),
    ("bills_currency_fkey", "bills", const(currency="XXX"), FK),
    ("bills_biller_name_check", "bills", const(biller_name=""), CHECK),
    ("bills_amount_due_check", "bills", const(amount_due="-80.00"), CHECK),
    ("bills_amount_due_scale_check", "bills", const(amount_due="80.001"), CHECK),
    ("bills_amount_due_finite_check", "bills", const(amount_due="Infinity"), CHECK),
    ("bills_amount_due_finite_check", "bills", const(amount_due="NaN"), CHECK),
    ("bills_biller_name_visible_check", "bills", const(biller_name="\u200b"), CHECK),
    # paid_at is derived by a trigger: NULL until the bill is paid.
    ("bills_paid_at_check", "bills", raw(const(paid_at="2025-03-01 10:00+00")), CHECK),
    ("bills_recurrence_check", "bills", const(series_start="2025-03-20"), CHECK),
    ("bills_occurrence_check", "bills", const(occurrence=-1), CHECK),
    ("rewards_pkey", "rewards", existing("rewards"), UNIQUE),
    ("rewards_user_id_program_name_key", "rewards", const(program_name="Demo Miles"), UNIQUE),
    ("rewards_user_id_fkey", "rewards", const(user_id=999_999_999), FK),
    ("rewards_program_name_check", "rewards", const(program_name=""), CHECK),
    ("rewards_program_name_visible_check", "rewards", const(program_name="\t\n"), CHECK),
    ("rewards_points_balance_check", "rewards", const(points_balance=-1), CHECK),
    ("reward_entries_pkey", "reward_entries", existing("reward_entries"), UNIQUE),
    ("reward_entries_user_id_reward_id_fkey", "reward_entries", lambda w, c: {"user_id": w.b["id"]}, FK),
    ("reward_entries_points_check", "reward_entries", const(points=0), CHECK),
    ("reward_entries_description_check", "reward_entries", const(description="d" * 201), CHECK),
    ("alerts_pkey", "alerts", existing("alerts"), UNIQUE),
    ("alerts_user_id_type_subject_id_period_key", "alerts",
     lambda w, c: {"subject_id": w.a_usd["id"], "period": "2025-03-01"}, UNIQUE),
    ("alerts_user_id_fkey", "alerts", const(user_id=999_999_999), FK),
    ("alerts_message_check", "alerts", const(message=""), CHECK),
    ("alerts_message_visible_check", "alerts", const(message="\ufeff"), CHECK),
    ("admin_logs_pkey", "admin_logs", existing("admin_logs"), UNIQUE),
    ("admin_logs_admin_id_fkey", "admin_logs", const(admin_id=999_999_999), FK),
    ("admin_logs_action_check", "admin_logs", const(action="Verified User; DROP TABLE"), CHECK),
    ("admin_logs_target_type_check", "admin_logs", const(target_type=""), CHECK),
]


@pytest.mark.parametrize(
    ("constraint", "table", "override", "sqlstate"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_constraint_rejects_and_writes_nothing(
    conn: psycopg.Connection, world: World, constraint: str, table: str, override: Callable, sqlstate: str
) -> None:
    row = {**world.rows()[table], **override(world, conn)}
    before = count(conn, table)
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        if getattr(override, "raw", False):
            conn.execute("SET LOCAL session_replication_role = replica")
        if trigger := getattr(override, "without", None):
            conn.execute(f"ALTER TABLE bank.{table} DISABLE TRIGGER {trigger}")
        insert(conn, table, **row)
    # A duplicate key in a partitioned table is found by the partition's index, named after the
    # parent's by bank.create_transaction_partitions (the world's transactions are of March 2025).
    if failure.value.sqlstate == UNIQUE and table == "transactions":
        constraint = constraint.replace("transactions_", "transactions_2025_03_", 1)
    assert (failure.value.sqlstate, failure.value.diag.constraint_name) == (sqlstate, constraint)
    assert count(conn, table) == before


@pytest.mark.parametrize("table", sorted({case[1] for case in CASES}))
def test_the_valid_row_of_each_case_is_accepted(conn: psycopg.Connection, world: World, table: str) -> None:
    before = count(conn, table)
    insert(conn, table, **world.rows()[table])
    assert count(conn, table) == before + 1


def test_amounts_exact_to_their_currency_are_stored_at_its_scale(conn: psycopg.Connection, world: World) -> None:
    insert(conn, "currencies", code="ZZZ", numeric_code="999", name="Three decimals", minor_unit=3)
    insert(conn, "exchange_rates", base_currency="ZZZ", quote_currency="USD", rate_date="2025-01-01", rate="2")
    row = {**world.rows()["transactions"], "external_id": None}
    stored = [
        insert(conn, "transactions", **{**row, "amount": amount, **extra})["amount"]
        for amount, extra in [
            ("1.50", {}),
            ("1.5", {}),
            ("1.50000", {}),
            ("1234567890123.99", {}),
            ("1500.00", {"account_id": world.a_jpy["id"], "currency": "JPY"}),
            ("1.005", {"currency": "ZZZ"}),
            ("7", {"currency": "ZZZ"}),
        ]
    ]
    assert [str(k) for k in stored] == ["1.50", "1.50", "1.50", "1234567890123.99", "1500", "1.005", "7.000"]
    # An UPDATE to the same number with other zeros is stored at the scale too.
    conn.execute("UPDATE bank.transactions SET amount = 2.50000 WHERE user_id = %s AND currency = 'USD'", (world.a["id"],))
    assert {str(a) for (a,) in conn.execute(
        "SELECT base_amount FROM bank.transactions WHERE user_id = %s AND currency = 'USD'", (world.a["id"],)
    )} == {"2.50"}


@pytest.mark.parametrize(("table", "column", "given", "stored"), [
    ("accounts", "balance", "10.5", "10.50"),
    ("accounts", "low_balance_threshold", "5.00000", "5.00"),
    ("bills", "amount_due", "80", "80.00"),
    ("budgets", "limit_amount", "300.0000", "300.00"),
    ("statements", "closing_balance", "13.5", "13.50"),
])
def test_money_of_every_table_is_stored_at_its_currencys_scale(
    conn: psycopg.Connection, world: World, table: str, column: str, given: str, stored: str
) -> None:
    row = insert(conn, table, **{**world.rows()[table], column: given})
    assert str(row[column]) == stored


def test_a_scale_violation_names_the_value_and_the_currency(conn: psycopg.Connection, world: World) -> None:
    row = {**world.rows()["transactions"], "account_id": world.a_jpy["id"], "currency": "JPY", "amount": "1.5"}
    with pytest.raises(psycopg.errors.CheckViolation) as failure, conn.transaction():
        insert(conn, "transactions", **row)
    assert failure.value.diag.message_primary == "transactions.amount 1.5 has more decimals than JPY allows (0)"


@pytest.mark.parametrize(("table", "column"), [
    ("accounts", "balance"), ("transactions", "amount"), ("bills", "amount_due"), ("budgets", "limit_amount"),
    ("statements", "opening_balance"),
])
def test_an_update_is_checked_like_an_insert(conn: psycopg.Connection, world: World, table: str, column: str) -> None:
    if table in ("bills", "budgets"):
        insert(conn, table, **world.rows()[table])
    amounts = f"SELECT array_agg({column}::text ORDER BY id) FROM bank.{table} WHERE user_id = %s"
    before = conn.execute(amounts, (world.a["id"],)).fetchone()[0]
    with pytest.raises(psycopg.errors.CheckViolation) as failure, conn.transaction():
        conn.execute(f"UPDATE bank.{table} SET {column} = 2.345 WHERE user_id = %s", (world.a["id"],))
    assert failure.value.diag.constraint_name == f"{table}_{column}_scale_check"
    assert failure.value.diag.column_name == column
    assert conn.execute(amounts, (world.a["id"],)).fetchone()[0] == before


def test_a_table_the_scale_trigger_does_not_know_is_refused_by_name(conn: psycopg.Connection) -> None:
    # It has a branch per known table: a new money table must be added to it.
    conn.execute("CREATE TABLE bank.fees (amount numeric NOT NULL, currency text NOT NULL)")
    conn.execute("CREATE TRIGGER money_at_scale BEFORE INSERT ON bank.fees"
                 " FOR EACH ROW EXECUTE FUNCTION bank.tg__money_at_scale()")
    with pytest.raises(psycopg.errors.InvalidParameterValue) as failure, conn.transaction():
        conn.execute("INSERT INTO bank.fees VALUES (1.00, 'USD')")
    assert failure.value.diag.message_primary == "bank.tg__money_at_scale() has no money column for bank.fees"
    hint = "Add a branch for the table to functions/bank.tg__money_at_scale.sql.j2."
    assert failure.value.diag.message_hint == hint
    assert (PROJECT.root / hint.split(" to ")[1].rstrip(".")).is_file()  # the file the hint names exists
    assert count(conn, "fees") == 0


def test_every_constraint_of_the_schema_has_a_case(conn: psycopg.Connection) -> None:
    in_catalog = {
        name for (name,) in conn.execute(
            """
            SELECT con.conname
            FROM pg_constraint AS con
            JOIN pg_class AS rel ON rel.oid = con.conrelid
            -- Not the constraint triggers (contype t): they check at COMMIT, which these rolled-back
            -- cases never reach; tests/functions/test_splits.py commits to test _700_check_split_sum.
            WHERE rel.relnamespace = 'bank'::regnamespace AND NOT rel.relispartition AND con.contype NOT IN ('n', 't')
            UNION
            SELECT idx.relname  -- unique indexes that are not constraints (users_email_key)
            FROM pg_index AS i
            JOIN pg_class AS idx ON idx.oid = i.indexrelid
            WHERE idx.relnamespace = 'bank'::regnamespace AND i.indisunique
              AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
              AND NOT idx.relispartition
            """
        )
    }
    assert in_catalog - {case[0] for case in CASES} == set()
