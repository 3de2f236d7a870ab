"""The hostile-input catalogue: what an application (a bank_app member acting for user A) may try.

Each case is refused with its own SQLSTATE and rule, and leaves every row of every table as it was
(compared as the owner, inside the application's transaction, right after the refusal). The cases
that are not refusals (a derived column an application writes, an identity it tries to keep, money
with extra zeros) assert what is stored instead.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from bankdb import doctor

from ..helpers import BCRYPT, add_txn, make_account, make_user, value
from .conftest import acting

# Every table an application can reach, read as the owner: the state "nothing changed" compares.
SNAPSHOT_TABLES = (
    "users", "accounts", "transactions", "budgets", "monthly_totals", "category_rules", "bills", "rewards",
    "reward_entries", "alerts", "exchange_rates", "import_batches", "transaction_external_ids", "statements",
    "recurring_candidates",
    "reward_entries", "alerts", "exchange_rates", "import_batches", "transaction_external_ids", "tags",
    "transaction_tags", "transaction_splits",
)


def snapshot(conn: psycopg.Connection) -> dict[str, list]:
    return {
        table: conn.execute(f"SELECT t::text FROM bank.{table} AS t ORDER BY t::text").fetchall()
        for table in SNAPSHOT_TABLES
    }


# (case, statement as bank_app acting for A, SQLSTATE, constraint name or error text)
CATALOGUE = [
    # 1. Money that is not a number.
    ("transaction amount NaN", "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type,"
     " txn_date) VALUES ({a_account}, 'x', 'NaN', 'USD', 'debit', '2025-03-05')", "23514",
     "transactions_amount_finite_check"),
    ("transaction amount Infinity", "INSERT INTO bank.transactions (account_id, description, amount, currency,"
     " txn_type, txn_date) VALUES ({a_account}, 'x', 'Infinity', 'USD', 'credit', '2025-03-05')", "23514",
     "transactions_amount_finite_check"),
    ("transaction amount -Infinity", "INSERT INTO bank.transactions (account_id, description, amount, currency,"
     " txn_type, txn_date) VALUES ({a_account}, 'x', '-Infinity', 'USD', 'debit', '2025-03-05')", "23514",
     "transactions_amount_check"),
    ("transaction amount updated to NaN", "UPDATE bank.transactions SET amount = 'NaN' WHERE id = {a_txn}", "23514",
     "transactions_amount_finite_check"),
    ("transaction amount updated to Infinity", "UPDATE bank.transactions SET amount = 'Infinity' WHERE id = {a_txn}",
     "23514", "transactions_amount_finite_check"),
    ("account balance NaN", "UPDATE bank.accounts SET balance = 'NaN' WHERE id = {a_account}", "23514",
     "accounts_balance_finite_check"),
    ("account balance -Infinity", "UPDATE bank.accounts SET balance = '-Infinity' WHERE id = {a_account}", "23514",
     "accounts_balance_finite_check"),
    ("new account with balance Infinity", "INSERT INTO bank.accounts (bank_name, account_type, masked_account,"
     " currency, balance) VALUES ('Bank', 'savings', '****9999', 'USD', 'Infinity')", "23514",
     "accounts_balance_finite_check"),
    ("low-balance threshold NaN", "UPDATE bank.accounts SET low_balance_threshold = 'NaN' WHERE id = {a_account}",
     "23514", "accounts_low_balance_threshold_finite_check"),
    ("budget limit NaN", "UPDATE bank.budgets SET limit_amount = 'NaN' WHERE id = {a_budget}", "23514",
     "budgets_limit_amount_finite_check"),
    ("new budget with limit Infinity", "INSERT INTO bank.budgets (year, month, category, limit_amount)"
     " VALUES (2025, 4, 'Groceries', 'Infinity')", "23514", "budgets_limit_amount_finite_check"),
    ("bill amount NaN", "UPDATE bank.bills SET amount_due = 'NaN' WHERE id = {a_bill}", "23514",
     "bills_amount_due_finite_check"),
    ("new bill with amount Infinity", "INSERT INTO bank.bills (biller_name, due_date, amount_due)"
     " VALUES ('Water', '2025-04-01', 'Infinity')", "23514", "bills_amount_due_finite_check"),
    # 2. Text with nothing to read, and money with more decimals than its currency.
    ("description of a tab", "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type,"
     " txn_date) VALUES ({a_account}, E'\\t', 1, 'USD', 'debit', '2025-03-05')", "23514",
     "transactions_description_visible_check"),
    ("description of a no-break and a zero-width space", "UPDATE bank.transactions SET description = E'\\u00a0\\u200b'"
     " WHERE id = {a_txn}", "23514", "transactions_description_visible_check"),
    ("biller name of a zero-width space", "UPDATE bank.bills SET biller_name = E'\\u200b' WHERE id = {a_bill}",
     "23514", "bills_biller_name_visible_check"),
    ("user name of an ideographic space", "UPDATE bank.users SET name = E'\\u3000' WHERE id = {a_user}", "23514",
     "users_name_visible_check"),
    ("amount with a tenth of a cent", "INSERT INTO bank.transactions (account_id, description, amount, currency,"
     " txn_type, txn_date) VALUES ({a_account}, 'x', 1.005, 'USD', 'debit', '2025-03-05')", "23514",
     "transactions_amount_scale_check"),
    ("budget limit with a tenth of a cent", "UPDATE bank.budgets SET limit_amount = 10.005 WHERE id = {a_budget}",
     "23514", "budgets_limit_amount_scale_check"),
    # 3. Acting for a user who does not exist.
    ("set_user of an unknown user", "SELECT api.set_user(999999999)", "BKUS2", "api.set_user: no user with id 999999999"),
    ("set_user of a negative id", "SELECT api.set_user(-1)", "BKUS2", "api.set_user: no user with id -1"),
    # 5. Ownership before anything else: a currency without a rate into another user's account.
    ("GBP transaction on another user's account", "INSERT INTO bank.transactions (account_id, description, amount,"
     " currency, txn_type, txn_date) VALUES ({b_account}, 'x', 1, 'GBP', 'debit', '2025-03-05')", "23503",
     "transactions_user_id_account_id_fkey"),
    ("USD transaction on another user's account", "INSERT INTO bank.transactions (account_id, description, amount,"
     " currency, txn_type, txn_date) VALUES ({b_account}, 'x', 1, 'USD', 'debit', '2025-03-05')", "23503",
     "transactions_user_id_account_id_fkey"),
    ("own transaction moved to another user's account in GBP", "UPDATE bank.transactions"
     " SET account_id = {b_account}, currency = 'GBP' WHERE id = {a_txn}", "23503",
     "transactions_user_id_account_id_fkey"),
    # 6. Statements: the bank's balances as exact as any money, of the user's own accounts, one per period.
    ("statement closing balance NaN", "UPDATE bank.statements SET closing_balance = 'NaN' WHERE id = {a_statement}",
     "23514", "statements_closing_balance_finite_check"),
    ("statement closing balance with a tenth of a cent", "INSERT INTO bank.statements (account_id, period_start,"
     " period_end, opening_balance, closing_balance) VALUES ({a_account}, '2025-05-01', '2025-05-31', 0, 1.005)",
     "23514", "statements_closing_balance_scale_check"),
    ("statement of another user's account", "INSERT INTO bank.statements (account_id, period_start, period_end,"
     " opening_balance, closing_balance) VALUES ({b_account}, '2025-05-01', '2025-05-31', 0, 0)", "23503",
     "statements_user_id_account_id_fkey"),
    ("statement overlapping another", "INSERT INTO bank.statements (account_id, period_start, period_end,"
     " opening_balance, closing_balance) VALUES ({a_account}, '2025-03-31', '2025-04-30', 0, 0)", "23P01",
     "statements_account_id_period_excl"),
    ("another user's statement reconciled", "SELECT api.reconcile_statement({b_statement})", "BKNF1",
     "api.reconcile_statement: no statement {b_statement} for user {a_user}"),
    # 7. Tags: one name per user whatever its case, and links only between the user's own rows.
    ("tag name differing only in case", "INSERT INTO bank.tags (name) VALUES ('TRIP')", "23505",
     "tags_user_id_name_key"),
    ("tag renamed to another tag's name in another case", "INSERT INTO bank.tags (name) VALUES ('Holiday');"
     " UPDATE bank.tags SET name = 'trip' WHERE name = 'Holiday'", "23505", "tags_user_id_name_key"),
    ("tag name of a zero-width space", "INSERT INTO bank.tags (name) VALUES (E'\\u200b')", "23514",
     "tags_name_visible_check"),
    ("tag name with a trailing space", "INSERT INTO bank.tags (name) VALUES ('Holiday ')", "23514",
     "tags_name_check"),
    ("another user's tag on an own transaction", "INSERT INTO bank.transaction_tags (txn_date, transaction_id,"
     " tag_id) VALUES ('{a_txn_date}', {a_txn}, {b_tag})", "23503", "transaction_tags_user_id_tag_id_fkey"),
    ("an own tag on another user's transaction", "INSERT INTO bank.transaction_tags (txn_date, transaction_id,"
     " tag_id) VALUES ('{b_txn_date}', {b_txn}, {a_tag})", "23503",
     "transaction_tags_user_id_txn_date_transaction_id_fkey"),
    ("an own tag on an own transaction under another date", "INSERT INTO bank.transaction_tags (txn_date,"
     " transaction_id, tag_id) VALUES ('2025-03-06', {a_txn}, {a_tag})", "23503",
     "transaction_tags_user_id_txn_date_transaction_id_fkey"),
]


def ids(users: tuple[dict, dict]) -> dict:
    a, b = users
    return {f"a_{k}": v for k, v in a.items()} | {f"b_{k}": v for k, v in b.items()}


@pytest.mark.parametrize(("statement", "sqlstate", "rule"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_a_hostile_write_is_refused_by_its_rule_and_changes_nothing(
    conn: psycopg.Connection, users: tuple[dict, dict], statement: str, sqlstate: str, rule: str
) -> None:
    before = snapshot(conn)
    with acting(conn, "bank_app", users[0]["user"]):
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute(statement.format(**ids(users)))
        conn.execute("RESET ROLE")
        after = snapshot(conn)
    error = failure.value
    assert error.sqlstate == sqlstate
    assert rule.format(**ids(users)) in (error.diag.constraint_name, error.diag.message_primary)
    assert after == before


def test_the_catalogue_names_each_case_once() -> None:
    assert len({c[0] for c in CATALOGUE}) == len(CATALOGUE)


# 0. Derived columns: whatever an application writes, the trigger's value is stored.

def stored(conn: psycopg.Connection, txn: int) -> tuple:
    return conn.execute(
        "SELECT fx_rate, base_amount, category_rule_id, is_categorized FROM bank.transactions WHERE id = %s", (txn,)
    ).fetchone()


def test_an_application_cannot_set_a_transactions_derived_columns(conn: psycopg.Connection, users) -> None:
    a, _ = users
    before = stored(conn, a["txn"])
    spending = "SELECT spending FROM api.monthly_spending WHERE category = 'Groceries'"
    with acting(conn, "bank_app", a["user"]):
        shown = conn.execute(spending).fetchall()
        for column, forged in [("base_amount", 1_000_000), ("fx_rate", 42), ("category_rule_id", a["rule"]),
                               ("is_categorized", False)]:
            conn.execute(f"UPDATE bank.transactions SET {column} = %s WHERE id = %s", (forged, a["txn"]))
            assert stored(conn, a["txn"]) == before, column
        assert conn.execute(spending).fetchall() == shown
        new = conn.execute(
            "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date,"
            " fx_rate, base_amount, category_rule_id, is_categorized)"
            " VALUES (%s, 'Coffee', 3.20, 'USD', 'debit', '2025-03-06', 42, 1000000, %s, TRUE) RETURNING id",
            (a["account"], a["rule"]),
        ).fetchone()[0]
        assert stored(conn, new) == (1, Decimal("3.20"), None, False)


def test_a_rule_id_is_kept_only_when_that_rule_categorizes_the_row(conn: psycopg.Connection, users) -> None:
    a, _ = users  # A's rule puts descriptions with 'shop' into Shopping
    with acting(conn, "bank_app", a["user"]):
        txn = conn.execute(
            "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
            " VALUES (%s, 'Coffee', 3.20, 'USD', 'debit', '2025-03-06') RETURNING id", (a["account"],),
        ).fetchone()[0]
        # A forged provenance: the rule does not match 'Coffee'.
        conn.execute("UPDATE bank.transactions SET category = 'Shopping', category_rule_id = %s WHERE id = %s",
                     (a["rule"], txn))
        assert value(conn, "SELECT category_rule_id FROM bank.transactions WHERE id = %s", (txn,)) is None
        # The rules engine's own write: the rule that categorizes the row into its category.
        conn.execute("UPDATE bank.transactions SET category = NULL, description = 'Shop' WHERE id = %s", (txn,))
        assert value(conn, "SELECT api.apply_category_rules()") == 1
        assert value(conn, "SELECT category_rule_id FROM bank.transactions WHERE id = %s", (txn,)) == a["rule"]
        # Moved to another month's partition, it keeps its provenance.
        conn.execute("UPDATE bank.transactions SET txn_date = '2025-04-02' WHERE id = %s", (txn,))
        assert value(conn, "SELECT category_rule_id FROM bank.transactions WHERE id = %s", (txn,)) == a["rule"]


def test_an_application_cannot_set_when_a_bill_was_paid(conn: psycopg.Connection, users) -> None:
    a, _ = users
    with acting(conn, "bank_app", a["user"]):
        bill = conn.execute(
            "INSERT INTO bank.bills (biller_name, due_date, amount_due, paid_at) VALUES ('Gas', '2025-04-01', 9,"
            " '2020-01-01') RETURNING id, paid_at",
        ).fetchone()
        assert bill[1] is None
        conn.execute("UPDATE bank.bills SET status = 'paid', paid_at = '2020-01-01' WHERE id = %s", (bill[0],))
        assert value(conn, "SELECT paid_at = now() FROM bank.bills WHERE id = %s", (bill[0],)) is True
        conn.execute("UPDATE bank.bills SET paid_at = '2020-01-01' WHERE id = %s", (bill[0],))
        assert value(conn, "SELECT paid_at = now() FROM bank.bills WHERE id = %s", (bill[0],)) is True


DERIVED = r"(set|kept) by (a )?triggers?"
# The derived columns an application holds a write privilege on, each proved recomputed above.
RECOMPUTED = {
    "transactions.fx_rate", "transactions.base_amount", "transactions.category_rule_id",
    "transactions.is_categorized", "bills.paid_at",
}


def test_every_derived_column_is_out_of_reach_or_recomputed(conn: psycopg.Connection) -> None:
    """From the catalog: a column whose comment says a trigger sets or keeps it is derived."""
    derived = conn.execute(
        """
        SELECT c.relname || '.' || a.attname,
               has_column_privilege('bank_app', c.oid, a.attnum, 'INSERT')
               OR has_column_privilege('bank_app', c.oid, a.attnum, 'UPDATE')
        FROM pg_attribute AS a
        JOIN pg_class AS c ON c.oid = a.attrelid
        JOIN pg_description AS d ON (d.objoid, d.objsubid) = (c.oid, a.attnum) AND d.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = 'bank'::regnamespace AND NOT c.relispartition AND d.description ~* %s
        """,
        (DERIVED,),
    ).fetchall()
    assert {"budgets.spent_amount", "rewards.points_balance", "transactions.base_amount"} <= {c for c, _ in derived}
    writable = {column for column, app_may_write in derived if app_may_write}
    assert writable == RECOMPUTED


# 4. The identity lives as long as the transaction that set it.

def test_the_acting_user_ends_with_its_transaction(db: str, server) -> None:
    with psycopg.connect(db, autocommit=True) as owner:
        a = make_user(owner, "a@example.com")["id"]
        make_account(owner, a)
        owner.execute("CREATE ROLE hostile_app LOGIN PASSWORD 'hostile_app' IN ROLE bank_app")
    try:
        with psycopg.connect(db, user="hostile_app", password="hostile_app") as app:
            app.execute("SELECT api.set_user(%s)", (a,))
            assert value(app, "SELECT api.current_user_id()") == a
            acting_value = value(app, "SELECT current_setting('app.user_id')")
            # Written for the whole session, as an application might, with set_user's own value too.
            app.execute("SELECT set_config('app.user_id', %s, FALSE)", (acting_value,))
            app.commit()
            assert value(app, "SELECT api.current_user_id()") is None
            assert value(app, "SELECT count(*) FROM api.account_summary") == 0
            app.rollback()
            app.execute("SELECT set_config('app.user_id', %s, FALSE)", (str(a),))
            assert value(app, "SELECT api.current_user_id()") is None
            with pytest.raises(psycopg.Error) as failure:
                app.execute("UPDATE bank.accounts SET balance = 0")
            assert failure.value.sqlstate == "BKUS1"
    finally:
        with psycopg.connect(db, autocommit=True) as owner:
            owner.execute("DROP OWNED BY hostile_app")
            owner.execute("DROP ROLE hostile_app")


# 10. An insert written against the seed's columns works.

def test_a_bill_with_the_seeds_columns_is_in_the_users_base_currency(conn: psycopg.Connection, users) -> None:
    _, b = users  # B's base currency is EUR
    with acting(conn, "bank_app", b["user"]):
        row = conn.execute(
            "INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, status, auto_pay)"
            " VALUES (%s, 'Rent', '2025-04-01', 900, 'upcoming', FALSE) RETURNING currency, amount_due::text",
            (b["user"],),
        ).fetchone()
    assert row == ("EUR", "900.00")


def test_the_seeds_own_inserts_work_for_an_application(conn: psycopg.Connection, users) -> None:
    a, _ = users
    with acting(conn, "bank_app", a["user"]):
        conn.execute(
            "INSERT INTO bank.accounts (user_id, bank_name, account_type, masked_account, currency, balance)"
            " VALUES (%s, 'Chase', 'checking', '****1234', 'USD', 5)", (a["user"],))
        conn.execute(
            "INSERT INTO bank.transactions (account_id, description, category, amount, currency, txn_type, merchant,"
            " txn_date, posted_date, is_categorized) VALUES (%s, 'Lunch', 'Groceries', 12.5, 'USD', 'debit', 'Cafe',"
            " '2025-03-07', '2025-03-08', TRUE)", (a["account"],))
        # The seed's spent_amount is derived here: an application may not write it (a column privilege).
        conn.execute(
            "INSERT INTO bank.budgets (user_id, month, year, category, limit_amount)"
            " VALUES (%s, 5, 2025, 'Entertainment', 200)", (a["user"],))
        assert value(conn, "SELECT amount::text FROM bank.transactions WHERE description = 'Lunch'") == "12.50"


# 11. Overdue without waiting for maintenance.

def test_a_bill_past_due_is_overdue_before_maintenance_marks_it(conn: psycopg.Connection, users) -> None:
    a, _ = users
    bill = conn.execute(
        "INSERT INTO bank.bills (user_id, biller_name, due_date, amount_due, currency)"
        " VALUES (%s, 'Phone', current_date - 1, 30, 'USD') RETURNING id", (a["user"],)).fetchone()[0]
    with acting(conn, "bank_app", a["user"]):
        overdue = conn.execute("SELECT id, days_overdue FROM api.overdue_bills WHERE id = %s", (bill,)).fetchall()
        upcoming = conn.execute("SELECT id FROM api.upcoming_bills WHERE id = %s", (bill,)).fetchall()
    assert (overdue, upcoming) == ([(bill, 1)], [])
    assert value(conn, "SELECT status::text FROM bank.bills WHERE id = %s", (bill,)) == "upcoming"


# 1. A total that is not a number is drift, found by verify_totals and doctor.

def test_a_nan_total_is_drift_for_verify_totals_and_doctor(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        user = make_user(conn, "n@example.com")
        add_txn(conn, make_account(conn, user["id"]), "5.00", category="Groceries")
        # Only possible with the constraint gone (a restore of an old dump, a hand edit): NaN = NaN.
        conn.execute("ALTER TABLE bank.monthly_totals DROP CONSTRAINT monthly_totals_spending_finite_check")
        conn.execute("ALTER TABLE bank.transactions DROP CONSTRAINT transactions_base_amount_finite_check")
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE bank.transactions SET base_amount = 'NaN'")
        conn.execute("SET session_replication_role = origin")
        conn.execute("UPDATE bank.monthly_totals SET spending = 'NaN'")
        drift = conn.execute("SELECT subject, detail, actual::text FROM bank.verify_totals()").fetchall()
    assert drift == [("monthly_totals.spending", "2025-03 Groceries", "NaN")]
    assert doctor.examine(db)["derived totals against raw rows"] == [
        f"monthly_totals.spending of user {user['id']} (2025-03 Groceries): NaN, but the raw rows say NaN",
        "1 derived total(s) drifted: repair with SELECT bank.rebuild_totals()",
    ]


def test_a_password_that_is_not_a_hash_is_still_refused(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        make_user(conn, "p@example.com", password="hunter2")
    assert value(conn, "SELECT count(*) FROM bank.users WHERE email = 'p@example.com'") == 0
    assert BCRYPT.startswith("$2b$")
