"""api.search_transactions: substring matches newest first, then similar words most similar first, within
a date range and a limit, for the acting user only; bad arguments refused by name (BKSR1). Its plan at a
million transactions for one user is in tests/views/test_plans.py."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from ..helpers import add_txn, make_account, make_user
from ..security.conftest import acting

SEARCH = "SELECT rank, match, round(similarity::numeric, 3)::text, id, txn_date FROM api.search_transactions(%s, %s, %s, %s)"


@pytest.fixture
def history(conn: psycopg.Connection, user: dict) -> dict:
    """Netflix three times, two near misses, something else; another user's Netflix."""
    acct = user["checking"]

    def txn(day: str, description: str, merchant: str | None = None) -> int:
        return add_txn(conn, acct, "9.99", txn_date=day, description=description, merchant=merchant)["id"]

    ids = {
        "mar": txn("2025-03-01", "NETFLIX.COM", "Netflix"),
        "apr": txn("2025-04-01", "NETFLIX.COM", "Netflix"),
        "may": txn("2025-05-01", "Monthly plan", "NETFLIX"),
        "netfli": txn("2025-06-01", "Netfli Shop"),
        "netflx": txn("2025-02-01", "NETFLX GIFT"),
        "other": txn("2025-05-02", "Spotify", "Spotify"),
    }
    other = make_user(conn, "other@example.com")
    add_txn(conn, make_account(conn, other["id"]), "9.99", txn_date="2025-05-03", description="NETFLIX.COM")
    return {"user": user["id"], **ids}


def search(conn: psycopg.Connection, user: int, query, p_from=None, p_to=None, limit=50, role="bank_app") -> list:
    with acting(conn, role, user):
        return conn.execute(SEARCH, (query, p_from, p_to, limit)).fetchall()


def test_substring_matches_come_newest_first_then_similar_words_most_similar_first(conn, history: dict) -> None:
    h = history
    assert search(conn, h["user"], "netflix") == [
        (1, "substring", "1.000", h["may"], date(2025, 5, 1)),
        (2, "substring", "1.000", h["apr"], date(2025, 4, 1)),
        (3, "substring", "1.000", h["mar"], date(2025, 3, 1)),
        (4, "similar", "0.750", h["netfli"], date(2025, 6, 1)),
        (5, "similar", "0.625", h["netflx"], date(2025, 2, 1)),
    ]
    # Case, surrounding and repeated spaces do not matter; a typo finds by similarity only.
    assert [r[3] for r in search(conn, h["user"], "  NetFlix\t")] == [h["may"], h["apr"], h["mar"], h["netfli"],
                                                                      h["netflx"]]
    # Equally similar (0.714 each): newest first.
    assert [(r[1], r[2], r[3]) for r in search(conn, h["user"], "netflx")] == [
        ("substring", "1.000", h["netflx"]), ("similar", "0.714", h["netfli"]), ("similar", "0.714", h["may"]),
        ("similar", "0.714", h["apr"]), ("similar", "0.714", h["mar"]),
    ]


def test_the_limit_and_the_date_range_both_ends_included(conn, history: dict) -> None:
    h = history
    assert [r[3] for r in search(conn, h["user"], "netflix", limit=2)] == [h["may"], h["apr"]]
    assert [r[3] for r in search(conn, h["user"], "netflix", limit=4)] == [h["may"], h["apr"], h["mar"], h["netfli"]]
    assert [r[3] for r in search(conn, h["user"], "netflix", "2025-04-01", "2025-05-01")] == [h["may"], h["apr"]]
    assert [r[3] for r in search(conn, h["user"], "netflix", "2025-05-01", "2025-05-01")] == [h["may"]]
    assert [r[3] for r in search(conn, h["user"], "netflix", None, "2025-03-31")] == [h["mar"], h["netflx"]]
    assert [r[3] for r in search(conn, h["user"], "netflix", "2025-05-02")] == [h["netfli"]]
    assert search(conn, h["user"], "netflix", "2026-01-01") == []


def test_only_the_acting_users_transactions_are_found(conn, history: dict) -> None:
    other = conn.execute("SELECT id FROM bank.users WHERE email = 'other@example.com'").fetchone()[0]
    found = search(conn, other, "netflix")
    assert [(r[1], r[4]) for r in found] == [("substring", date(2025, 5, 3))]
    assert search(conn, history["user"], "spotify", role="bank_readonly")[0][3] == history["other"]


def test_a_row_holds_the_transaction_and_its_account(conn, history: dict) -> None:
    with acting(conn, "bank_app", history["user"]):
        row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
            "SELECT * FROM api.search_transactions('spotify')"
        ).fetchone()
    account = conn.execute("SELECT account_id FROM bank.transactions WHERE id = %s", (history["other"],)).fetchone()[0]
    assert {**row, "amount": str(row["amount"]), "base_amount": str(row["base_amount"])} == {
        "rank": 1, "match": "substring", "similarity": 1.0, "id": history["other"], "txn_date": date(2025, 5, 2),
        "account_id": account, "bank_name": "Bank", "masked_account": "****0001", "description": "Spotify",
        "merchant": "Spotify", "category": None, "amount": "9.99", "currency": "USD", "txn_type": "debit",
        "kind": "regular", "base_amount": "9.99", "posted_date": None,
    }


def test_the_query_is_taken_literally(conn: psycopg.Connection, user: dict) -> None:
    acct = user["checking"]
    ids = [add_txn(conn, acct, "1.00", description=d)["id"] for d in
           ("Discount 50% off", "Discount 500 off", "ref a_b", "ref axb", "back\\slash", "Dots ... here")]
    found = {q: [r[3] for r in search(conn, user["id"], q) if r[1] == "substring"]
             for q in ("50%", "a_b", "k\\s", "...")}
    assert found == {"50%": [ids[0]], "a_b": [ids[2]], "k\\s": [ids[4]], "...": [ids[5]]}


@pytest.mark.parametrize(("args", "message", "hint"), [
    ((None, None, None, 50), "search_query_check: the query is empty (NULL)", None),
    (("", None, None, 50), "search_query_check: the query is empty ('')", None),
    ((" \t\n ", None, None, 50), "search_query_check: the query is empty (' \t\n ')", None),
    (("ab", None, None, 50), "search_query_check: the query needs at least 3 characters ('ab')",
     "A trigram index needs three characters to look anything up."),
    ((" a  ", None, None, 50), "search_query_check: the query needs at least 3 characters ('a')",
     "A trigram index needs three characters to look anything up."),
    (("x" * 101, None, None, 50), "search_query_check: the query has 101 characters, more than 100", None),
    (("x" * 1_000_000, None, None, 50), "search_query_check: the query has 1000000 characters, more than 100", None),
    (("netflix", None, None, 0), "search_limit_check: the limit must be from 1 to 500 (0)", None),
    (("netflix", None, None, 501), "search_limit_check: the limit must be from 1 to 500 (501)", None),
    (("netflix", None, None, None), "search_limit_check: the limit must be from 1 to 500 (NULL)", None),
    (("netflix", "2025-03-10", "2025-03-01", 50),
     "search_date_range_check: the range starts after it ends (from 2025-03-10, to 2025-03-01)", None),
])
def test_bad_arguments_are_refused_by_name(conn: psycopg.Connection, user: dict, args, message: str, hint) -> None:
    with acting(conn, "bank_app", user["id"]):
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute("SELECT * FROM api.search_transactions(%s, %s, %s, %s)", args)
    assert (failure.value.sqlstate, failure.value.diag.message_primary, failure.value.diag.message_hint) == (
        "BKSR1", message, hint
    )


def test_the_limits_themselves_are_accepted(conn: psycopg.Connection, history: dict) -> None:
    assert len(search(conn, history["user"], "netflix", limit=1)) == 1
    assert len(search(conn, history["user"], "netflix", limit=500)) == 5
    assert search(conn, history["user"], "x" * 100) == []
    assert search(conn, history["user"], "abc") == []


def test_searching_needs_an_acting_user(conn: psycopg.Connection, history: dict) -> None:
    with acting(conn, "bank_app", None):
        with pytest.raises(psycopg.Error) as failure, conn.transaction():
            conn.execute("SELECT * FROM api.search_transactions('netflix')")
    assert failure.value.sqlstate == "BKUS1"


def test_a_user_without_transactions_finds_nothing(conn: psycopg.Connection) -> None:
    assert search(conn, make_user(conn, "new@example.com")["id"], "netflix") == []
