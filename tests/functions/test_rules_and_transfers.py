"""Categorization rules and transfers between a user's own accounts."""

from __future__ import annotations

import psycopg
import pytest

from ..helpers import add_txn, insert, make_user, value


def rule(conn: psycopg.Connection, user: dict, category: str, **patterns) -> dict:
    return insert(conn, "category_rules", user_id=user["id"], category=category, **patterns)


def test_the_highest_priority_matching_rule_categorizes_an_insert(conn: psycopg.Connection, user: dict) -> None:
    rule(conn, user, "Shopping", keyword_pattern="market", priority=1)
    winner = rule(conn, user, "Groceries", keyword_pattern="super", priority=5)
    rule(conn, user, "Entertainment", merchant_pattern=".*", priority=0)
    txn = add_txn(conn, user["checking"], "9.99", description="SUPERMARKET weekly", merchant="FreshMart")
    assert (txn["category"], txn["category_rule_id"], txn["is_categorized"]) == ("Groceries", winner["id"], True)


def test_a_tie_goes_to_the_older_rule(conn: psycopg.Connection, user: dict) -> None:
    older = rule(conn, user, "Groceries", keyword_pattern="coffee")
    rule(conn, user, "Entertainment", keyword_pattern="coffee")
    assert add_txn(conn, user["checking"], "3.00", description="Coffee")["category_rule_id"] == older["id"]


def test_a_rule_with_both_patterns_needs_both_to_match(conn: psycopg.Connection, user: dict) -> None:
    rule(conn, user, "Transportation", keyword_pattern="^fuel", merchant_pattern="shell|bp")
    assert add_txn(conn, user["checking"], "50.00", description="Fuel", merchant="BP Station")["category"] == (
        "Transportation"
    )
    assert add_txn(conn, user["checking"], "50.00", description="Fuel", merchant="Esso")["category"] is None
    assert add_txn(conn, user["checking"], "50.00", description="Fuel")["category"] is None  # no merchant


def test_inactive_rules_and_other_users_rules_do_not_apply(conn: psycopg.Connection, user: dict) -> None:
    rule(conn, user, "Groceries", keyword_pattern="bread", is_active=False)
    other = make_user(conn, "other@example.com")
    rule(conn, other, "Shopping", keyword_pattern="bread")
    assert add_txn(conn, user["checking"], "2.00", description="Bread")["category"] is None


def test_a_category_set_by_hand_is_never_overwritten(conn: psycopg.Connection, user: dict) -> None:
    rule(conn, user, "Groceries", keyword_pattern="market")
    given = add_txn(conn, user["checking"], "5.00", description="Market", category="Shopping")
    assert (given["category"], given["category_rule_id"]) == ("Shopping", None)
    by_rule = add_txn(conn, user["checking"], "6.00", description="Market")
    conn.execute("UPDATE bank.transactions SET category = 'Healthcare' WHERE id = %s", (by_rule["id"],))
    assert value(conn, "SELECT bank.apply_category_rules(%s)", (user["id"],)) == 0
    rows = conn.execute("SELECT category, category_rule_id FROM bank.transactions ORDER BY id").fetchall()
    assert rows == [("Shopping", None), ("Healthcare", None)]


def test_rules_apply_on_request_to_uncategorized_transactions_only(conn: psycopg.Connection, user: dict) -> None:
    add_txn(conn, user["checking"], "1.00", description="Pharmacy")
    add_txn(conn, user["checking"], "2.00", description="Pharmacy", category="Other")
    later = rule(conn, user, "Healthcare", keyword_pattern="pharm")
    assert value(conn, "SELECT bank.apply_category_rules(%s)", (user["id"],)) == 1
    rows = conn.execute("SELECT category, category_rule_id, is_categorized FROM bank.transactions ORDER BY id").fetchall()
    assert rows == [("Healthcare", later["id"], True), ("Other", None, True)]
    assert value(conn, "SELECT spending FROM bank.monthly_totals WHERE category = 'Healthcare'") == 1


def test_deleting_a_rule_keeps_the_categories_it_set(conn: psycopg.Connection, user: dict) -> None:
    r = rule(conn, user, "Groceries", keyword_pattern="bread")
    add_txn(conn, user["checking"], "2.00", description="Bread")
    conn.execute("DELETE FROM bank.category_rules WHERE id = %s", (r["id"],))
    assert conn.execute("SELECT category, category_rule_id FROM bank.transactions").fetchall() == [("Groceries", None)]


@pytest.mark.parametrize(
    ("column", "pattern", "message"),
    [
        ("keyword_pattern", "[a-", "category_rules.keyword_pattern '[a-' is not a valid regular expression: "
                                   "invalid regular expression: brackets [] not balanced"),
        ("merchant_pattern", "a{2,1}", "category_rules.merchant_pattern 'a{2,1}' is not a valid regular expression: "
                                       "invalid regular expression: invalid repetition count(s)"),
    ],
)
def test_an_invalid_pattern_is_refused_when_the_rule_is_saved(
    conn: psycopg.Connection, user: dict, column: str, pattern: str, message: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as failure, conn.transaction():
        rule(conn, user, "Groceries", **{column: pattern})
    assert failure.value.diag.message_primary == message
    assert failure.value.diag.constraint_name == f"category_rules_{column}_regex_check"


def test_a_rule_for_a_category_that_does_not_exist_is_refused(conn: psycopg.Connection, user: dict) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as failure, conn.transaction():
        rule(conn, user, "Crypto", keyword_pattern="coin")
    assert failure.value.diag.constraint_name == "category_rules_category_fkey"
    assert failure.value.diag.message_detail == 'Key (category)=(Crypto) is not present in table "category_master".'


# Transfers -------------------------------------------------------------------------------------


def test_linking_a_transfer_takes_both_sides_out_of_spending_and_income(conn: psycopg.Connection, user: dict) -> None:
    out = add_txn(conn, user["checking"], "200.00", "debit", "2025-03-05", category="Transfer")
    into = add_txn(conn, user["savings"], "200.00", "credit", "2025-03-07", category="Transfer")
    assert value(conn, "SELECT txn_count FROM bank.monthly_totals WHERE category = 'Transfer'") == 2
    transfer_id = value(conn, "SELECT bank.link_transfer(%s, %s, %s)", (user["id"], out["id"], into["id"]))
    rows = conn.execute("SELECT kind, transfer_id FROM bank.transactions ORDER BY id").fetchall()
    assert rows == [("transfer", transfer_id)] * 2
    assert conn.execute(
        "SELECT spending, income, txn_count FROM bank.monthly_totals WHERE category = 'Transfer'"
    ).fetchall() == [(0, 0, 0)]
    assert value(conn, "SELECT bank.unlink_transfer(%s, %s)", (user["id"], transfer_id)) == 2
    assert conn.execute("SELECT DISTINCT kind::text, transfer_id FROM bank.transactions").fetchall() == [("regular", None)]
    assert value(conn, "SELECT txn_count FROM bank.monthly_totals WHERE category = 'Transfer'") == 2


@pytest.mark.parametrize(
    ("debit", "credit", "message"),
    [
        (("checking", "10.00", "debit", "2025-03-05"), ("savings", "10.00", "debit", "2025-03-05"),
         "a transfer links a debit to a credit: transaction (id={0}) is a debit, transaction (id={1}) a debit"),
        (("checking", "10.00", "debit", "2025-03-05"), ("checking", "10.00", "credit", "2025-03-05"),
         "both sides of a transfer are on account (id={account})"),
        (("checking", "10.00", "debit", "2025-03-05"), ("savings", "10.01", "credit", "2025-03-05"),
         "the two sides of a transfer differ: 10.00 USD out, 10.01 USD in"),
        (("checking", "10.00", "debit", "2025-03-01"), ("savings", "10.00", "credit", "2025-03-05"),
         "the two sides of a transfer are 4 days apart (2025-03-01 and 2025-03-05), more than 3"),
    ],
)
def test_a_link_that_is_not_a_transfer_is_refused(
    conn: psycopg.Connection, user: dict, debit: tuple, credit: tuple, message: str
) -> None:
    d = add_txn(conn, user[debit[0]], debit[1], debit[2], debit[3])
    c = add_txn(conn, user[credit[0]], credit[1], credit[2], credit[3])
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        conn.execute("SELECT bank.link_transfer(%s, %s, %s)", (user["id"], d["id"], c["id"]))
    assert failure.value.sqlstate == "BKTR1"
    assert failure.value.diag.message_primary == message.format(d["id"], c["id"], account=user["checking"]["id"])


def test_a_side_of_another_user_or_already_linked_is_refused(conn: psycopg.Connection, user: dict) -> None:
    d = add_txn(conn, user["checking"], "10.00", "debit")
    c = add_txn(conn, user["savings"], "10.00", "credit")
    other = make_user(conn, "thief@example.com")
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        conn.execute("SELECT bank.link_transfer(%s, %s, %s)", (other["id"], d["id"], c["id"]))
    assert (failure.value.sqlstate, failure.value.diag.message_primary) == (
        "BKNF1", f"transaction (id={d['id']}) of user {other['id']} not found"
    )
    conn.execute("SELECT bank.link_transfer(%s, %s, %s)", (user["id"], d["id"], c["id"]))
    with pytest.raises(psycopg.Error) as failure, conn.transaction():
        conn.execute("SELECT bank.link_transfer(%s, %s, %s)", (user["id"], d["id"], c["id"]))
    assert (failure.value.sqlstate, failure.value.diag.message_primary) == (
        "BKTR1", f"transaction (id={d['id']}) is already a transfer and cannot be linked"
    )
