"""Balance history and net worth over time: bank.daily_flows (kept by the totals trigger),
bank.account_balances (kept by a trigger on accounts), api.balance_history and api.net_worth_history,
compared to the cent with a Python reference computed from the raw rows."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import add_txn, insert, make_account, make_user, value
from ..security.conftest import acting

MINOR_UNITS = {"USD": 2, "EUR": 2, "JPY": 0, "GBP": 2}
# 1 base = rate quote. GBP has a rate from June 2025 only: before it a GBP account has no rate.
RATES = [
    ("EUR", "USD", "2024-12-01", "1.1"),
    ("EUR", "USD", "2025-06-01", "1.25"),
    ("USD", "JPY", "2024-12-01", "151.37"),
    ("GBP", "USD", "2025-06-01", "1.3333"),
]
FROM, TO = datetime.date(2024, 12, 25), datetime.date(2026, 1, 10)
LIABILITIES = ("credit_card", "loan")


def pair(a: str, b: str, on: datetime.date) -> Decimal | None:
    direct = [(d, Decimal(r)) for x, y, d, r in RATES if (x, y) == (a, b) and d <= on.isoformat()]
    if direct:
        return max(direct)[1]
    inverse = [(d, Decimal(r)) for x, y, d, r in RATES if (x, y) == (b, a) and d <= on.isoformat()]
    if inverse:
        return (1 / max(inverse)[1]).quantize(Decimal("1e-16"), ROUND_HALF_UP)
    return None


def rate(source: str, target: str, on: datetime.date) -> Decimal | None:
    """bank.find_exchange_rate's reference (the base currencies here are USD, so no pivot is needed)."""
    return Decimal(1) if source == target else pair(source, target, on)


def days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(n) for n in range((end - start).days + 1)]


def raw_flows(conn: psycopg.Connection) -> dict:
    """Daily flows from the raw transactions: every kind, in the transaction's currency."""
    flows: dict = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for user_id, account_id, day, currency, txn_type, amount in conn.execute(
        "SELECT user_id, account_id, txn_date, currency, txn_type, amount FROM bank.transactions"
    ).fetchall():
        key = (user_id, account_id, day, currency)
        flows[key][0 if txn_type == "credit" else 1] += amount
        flows[key][2] += 1
    return {k: tuple(v) for k, v in flows.items()}


def kept_flows(conn: psycopg.Connection) -> dict:
    return {
        (u, a, d, c): (cr, db, n)
        for u, a, d, c, cr, db, n in conn.execute(
            "SELECT user_id, account_id, day, currency, credits, debits, txn_count FROM bank.daily_flows"
        ).fetchall()
        if (cr, db, n) != (0, 0, 0)
    }


def expected_history(conn: psycopg.Connection, account_id: int, start: datetime.date, end: datetime.date) -> list:
    """api.balance_history's reference from the raw rows: the balance at the end of a day is the account's
    balance minus the net of the later days' transactions in its currency."""
    user_id, currency, balance = conn.execute(
        "SELECT user_id, currency, balance FROM bank.accounts WHERE id = %s", (account_id,)
    ).fetchone()
    base = value(conn, "SELECT base_currency FROM bank.users WHERE id = %s", (user_id,))
    txns = conn.execute(
        "SELECT txn_date, currency, txn_type, amount FROM bank.transactions WHERE account_id = %s", (account_id,)
    ).fetchall()
    reported = conn.execute(
        "SELECT day, currency, balance FROM bank.account_balances WHERE account_id = %s ORDER BY day", (account_id,)
    ).fetchall()
    rows = []
    for day in days(start, end):
        mine = [t for t in txns if t[0] == day and t[1] == currency]
        credits = sum((t[3] for t in mine if t[2] == "credit"), Decimal(0))
        debits = sum((t[3] for t in mine if t[2] == "debit"), Decimal(0))
        later = sum((t[3] if t[2] == "credit" else -t[3] for t in txns if t[0] > day and t[1] == currency), Decimal(0))
        end_balance = balance - later
        r = rate(currency, base, day)
        in_base = None if r is None else (
            end_balance if currency == base
            else (end_balance * r).quantize(Decimal(1).scaleb(-MINOR_UNITS[base]), ROUND_HALF_UP)
        )
        last = [x for x in reported if x[0] <= day]
        rows.append((
            day, currency, credits, debits, len(mine), sum(1 for t in txns if t[0] == day and t[1] != currency),
            end_balance, last[-1][2] if last else None, last[-1][1] if last else None, base, in_base,
        ))
    return rows


def expected_net_worth(conn: psycopg.Connection, user_id: int, start: datetime.date, end: datetime.date,
                       step: str) -> list:
    base = value(conn, "SELECT base_currency FROM bank.users WHERE id = %s", (user_id,))
    accounts = conn.execute(
        "SELECT id, account_type FROM bank.accounts WHERE user_id = %s AND disabled_at IS NULL", (user_id,)
    ).fetchall()
    histories = {a: {r[0]: r for r in expected_history(conn, a, start, end)} for a, _ in accounts}
    rows = []
    for day in days(start, end):
        if step == "month" and day != end and (day + datetime.timedelta(1)).day != 1:
            continue
        assets = liabilities = net = Decimal(0)
        missing = 0
        for account_id, account_type in accounts:
            in_base = histories[account_id][day][10]
            if in_base is None:
                missing += 1
            elif account_type in LIABILITIES:
                liabilities -= in_base
                net += in_base
            else:
                assets += in_base
                net += in_base
        rows.append((day, base, assets, liabilities, net, missing))
    return rows


def history(conn: psycopg.Connection, user_id: int, account_id: int, start: datetime.date,
            end: datetime.date) -> list:
    with acting(conn, "bank_app", user_id):
        return conn.execute("SELECT * FROM api.balance_history(%s, %s, %s)", (account_id, start, end)).fetchall()


def net_worth(conn: psycopg.Connection, user_id: int, start: datetime.date, end: datetime.date, step: str) -> list:
    with acting(conn, "bank_app", user_id):
        return conn.execute("SELECT * FROM api.net_worth_history(%s, %s, %s)", (start, end, step)).fetchall()


@pytest.fixture
def accounts(conn: psycopg.Connection) -> list[dict]:
    """User A (base USD): USD checking (1,000.00), EUR savings, JPY, GBP (no rate before June 2025) and a USD
    credit card owing 250.00; user B (base USD): one USD account. Earlier reported balances of the checking
    account on 2025-03-01 and 2025-08-15, as a bank sync would have left them."""
    for base, quote, day, r in RATES:
        insert(conn, "exchange_rates", base_currency=base, quote_currency=quote, rate_date=day, rate=r)
    conn.execute("SELECT bank.create_transaction_partitions('2024-12-01', '2026-01-31')")
    a = make_user(conn, "a@example.com", "USD")
    b = make_user(conn, "b@example.com", "USD")
    result = [
        make_account(conn, a["id"], "USD", balance="1000.00"),
        make_account(conn, a["id"], "EUR", balance="200.00", account_type="savings"),
        make_account(conn, a["id"], "JPY", balance="15000"),
        make_account(conn, a["id"], "GBP", balance="80.00"),
        make_account(conn, a["id"], "USD", balance="-250.00", account_type="credit_card"),
        make_account(conn, b["id"], "USD", balance="42.00"),
    ]
    for day, balance in (("2025-03-01", "900.00"), ("2025-08-15", "950.00")):
        insert(conn, "account_balances", user_id=a["id"], account_id=result[0]["id"], day=day, currency="USD",
               balance=balance)
    return result


def units(amount: int, currency: str) -> str:
    return str(Decimal(amount).scaleb(-MINOR_UNITS[currency]))


dates = st.dates(datetime.date(2024, 12, 20), datetime.date(2026, 1, 20))
operation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 5), st.integers(1, 500_000), st.sampled_from(["debit", "credit"]),
              st.sampled_from(["regular", "regular", "card_payment", "transfer"]), dates),
    st.tuples(st.just("insert_many"), st.integers(0, 5), st.integers(1, 6), dates),
    st.tuples(st.just("amount"), st.integers(0, 99), st.integers(1, 500_000)),
    st.tuples(st.just("direction"), st.integers(0, 99)),
    st.tuples(st.just("date"), st.integers(0, 99), dates),
    st.tuples(st.just("account"), st.integers(0, 99), st.integers(0, 4)),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("bulk_update"), st.integers(1, 12)),
    st.tuples(st.just("balance"), st.integers(0, 5), st.integers(-500_000, 500_000)),
    st.tuples(st.just("currency"), st.sampled_from(["USD", "EUR"])),
)


GBP_FROM = datetime.date(2025, 6, 1)  # a GBP transaction needs a rate on its date


def apply(conn: psycopg.Connection, accounts: list[dict], op: tuple) -> None:
    ids = [r[0] for r in conn.execute("SELECT id FROM bank.transactions ORDER BY id").fetchall()]
    pick = (lambda i: ids[i % len(ids)]) if ids else None
    name = op[0]
    if name == "insert":
        _, a, amount, txn_type, kind, day = op
        account = accounts[a]
        currency = value(conn, "SELECT currency FROM bank.accounts WHERE id = %s", (account["id"],))
        extra = {"transfer_id": value(conn, "SELECT nextval('bank.transfer_id_seq')")} if kind == "transfer" else {}
        day = max(day, GBP_FROM) if currency == "GBP" else day
        add_txn(conn, {**account, "currency": currency}, units(amount, currency), txn_type, day.isoformat(),
                kind=kind, **extra)
    elif name == "insert_many":  # one statement, several rows and days
        _, a, n, day = op
        account = accounts[a]
        conn.execute(
            """
            INSERT INTO bank.transactions (user_id, account_id, description, amount, currency, txn_type, txn_date)
            SELECT a.user_id, a.id, 'Bulk', g * 7 + 1, a.currency,
                   (ARRAY['debit', 'credit'])[1 + g %% 2]::bank.txn_type, least(%s::date + g / 2, '2026-01-31')
            FROM bank.accounts AS a, generate_series(1, %s) AS g WHERE a.id = %s
            """,
            (max(day, GBP_FROM) if account["currency"] == "GBP" else day, n, account["id"]),
        )
    elif name == "balance":  # a bank sync reports a new balance
        _, a, amount = op
        currency = value(conn, "SELECT currency FROM bank.accounts WHERE id = %s", (accounts[a]["id"],))
        conn.execute("UPDATE bank.accounts SET balance = %s WHERE id = %s",
                     (units(amount, currency), accounts[a]["id"]))
    elif name == "currency":  # the EUR savings account changes currency (both have two decimals)
        conn.execute("UPDATE bank.accounts SET currency = %s WHERE id = %s", (op[1], accounts[1]["id"]))
    elif not ids:
        return
    elif name == "amount":
        conn.execute(
            """UPDATE bank.transactions AS t SET amount = round(%s::numeric / 100, c.minor_unit) + 1
               FROM bank.currencies AS c WHERE c.code = t.currency AND t.id = %s""",
            (op[2], pick(op[1])),
        )
    elif name == "direction":
        conn.execute(
            "UPDATE bank.transactions SET txn_type = CASE txn_type WHEN 'debit' THEN 'credit' ELSE 'debit' END"
            "::bank.txn_type WHERE id = %s",
            (pick(op[1]),),
        )
    elif name == "date":  # backdated or moved forward, maybe to another month's partition
        conn.execute(
            "UPDATE bank.transactions SET txn_date = CASE WHEN currency = 'GBP' THEN greatest(%s, %s) ELSE %s END"
            " WHERE id = %s",
            (op[2], GBP_FROM, op[2], pick(op[1])),
        )
    elif name == "account":  # another account of the same user; the row keeps its own currency
        txn = pick(op[1])
        owner = value(conn, "SELECT user_id FROM bank.transactions WHERE id = %s", (txn,))
        mine = [a for a in accounts if a["user_id"] == owner]
        conn.execute("UPDATE bank.transactions SET account_id = %s WHERE id = %s",
                     (mine[op[2] % len(mine)]["id"], txn))
    elif name == "delete":
        conn.execute("DELETE FROM bank.transactions WHERE id = %s", (pick(op[1]),))
    elif name == "bulk_update":  # one statement over many rows, days and months
        conn.execute(
            "UPDATE bank.transactions SET txn_date = txn_date + 9 WHERE user_id = %s"
            " AND extract(MONTH FROM txn_date) <= %s AND txn_date < '2026-01-01'",
            (accounts[0]["user_id"], op[1]),
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_flows_and_histories_equal_a_reference_from_the_raw_rows(
    conn: psycopg.Connection, accounts: list[dict], ops: list[tuple]
) -> None:
    with conn.transaction(force_rollback=True):
        for op in ops:
            apply(conn, accounts, op)
        assert kept_flows(conn) == raw_flows(conn)
        assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
        a = accounts[0]["user_id"]
        for account in accounts[:5]:
            assert history(conn, a, account["id"], FROM, TO) == expected_history(conn, account["id"], FROM, TO)
        for step in ("day", "month"):
            assert net_worth(conn, a, FROM, TO, step) == expected_net_worth(conn, a, FROM, TO, step)


def test_a_backdated_insert_changes_one_days_row_and_transfers_count(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    usd = accounts[0]
    for day in ("2025-03-01", "2025-03-02", "2025-03-03"):
        add_txn(conn, usd, "10.00", txn_date=day)
    before = kept_flows(conn)
    add_txn(conn, usd, "5.25", "credit", txn_date="2025-03-02", kind="transfer",
            transfer_id=value(conn, "SELECT nextval('bank.transfer_id_seq')"))
    after = kept_flows(conn)
    changed = {k for k in after if before.get(k) != after[k]}
    key = (usd["user_id"], usd["id"], datetime.date(2025, 3, 2), "USD")
    assert changed == {key}
    assert after[key] == (Decimal("5.25"), Decimal("10.00"), 2)
    # The monthly totals count regular transactions only; the flows count the transfer.
    assert value(conn, "SELECT sum(txn_count) FROM bank.monthly_totals WHERE user_id = %s",
                 (usd["user_id"],)) == 3


def test_the_end_of_day_balance_is_anchored_on_the_accounts_balance(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    usd = accounts[0]  # balance 1,000.00
    add_txn(conn, usd, "100.00", "credit", txn_date="2025-03-02")
    add_txn(conn, usd, "30.00", txn_date="2025-03-03")
    add_txn(conn, usd, "9.99", txn_date="2025-03-03", currency="EUR")  # another currency: counted, not applied
    rows = history(conn, usd["user_id"], usd["id"], datetime.date(2025, 3, 1), datetime.date(2025, 3, 4))
    assert [(r[0].isoformat(), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("2025-03-01", Decimal(0), Decimal(0), 0, 0, Decimal("930.00"), Decimal("900.00")),
        ("2025-03-02", Decimal("100.00"), Decimal(0), 1, 0, Decimal("1030.00"), Decimal("900.00")),
        ("2025-03-03", Decimal(0), Decimal("30.00"), 1, 1, Decimal("1000.00"), Decimal("900.00")),
        ("2025-03-04", Decimal(0), Decimal(0), 0, 0, Decimal("1000.00"), Decimal("900.00")),
    ]


def test_a_gbp_account_without_a_rate_is_left_out_and_counted_never_converted_at_1(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    a = accounts[0]["user_id"]
    rows = net_worth(conn, a, datetime.date(2025, 5, 31), datetime.date(2025, 6, 1), "day")
    # USD 1,000.00 + EUR 200.00 at 1.1 / 1.25 + JPY 15,000 at 1/151.37 - card 250.00 (+ GBP 80.00 at 1.3333 from June).
    jpy = (Decimal(15000) * (1 / Decimal("151.37")).quantize(Decimal("1e-16"), ROUND_HALF_UP)).quantize(
        Decimal("0.01"), ROUND_HALF_UP)
    assert rows == [
        (datetime.date(2025, 5, 31), "USD", Decimal("1220.00") + jpy, Decimal("250.00"), Decimal("970.00") + jpy, 1),
        (datetime.date(2025, 6, 1), "USD", Decimal("1356.66") + jpy, Decimal("250.00"), Decimal("1106.66") + jpy, 0),
    ]
    gbp = history(conn, a, accounts[3]["id"], datetime.date(2025, 5, 31), datetime.date(2025, 6, 1))
    assert [(r[6], r[10]) for r in gbp] == [(Decimal("80.00"), None), (Decimal("80.00"), Decimal("106.66"))]


def test_net_worth_by_month_gives_each_months_last_day_and_the_ranges_end(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    a = accounts[0]["user_id"]
    rows = net_worth(conn, a, datetime.date(2025, 1, 15), datetime.date(2025, 3, 10), "month")
    assert [r[0].isoformat() for r in rows] == ["2025-01-31", "2025-02-28", "2025-03-10"]


def test_the_reported_balance_keeps_the_days_last_value_and_the_currency(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    eur = accounts[1]
    today = value(conn, "SELECT current_date")
    for balance in ("210.00", "220.00"):
        conn.execute("UPDATE bank.accounts SET balance = %s WHERE id = %s", (balance, eur["id"]))
    conn.execute("UPDATE bank.accounts SET bank_name = 'Other' WHERE id = %s", (eur["id"],))
    assert conn.execute(
        "SELECT day, currency, balance FROM bank.account_balances WHERE account_id = %s", (eur["id"],)
    ).fetchall() == [(today, "EUR", Decimal("220.00"))]
    conn.execute("UPDATE bank.accounts SET currency = 'USD' WHERE id = %s", (eur["id"],))
    assert conn.execute(
        "SELECT day, currency, balance FROM bank.account_balances WHERE account_id = %s", (eur["id"],)
    ).fetchall() == [(today, "USD", Decimal("220.00"))]
    rows = history(conn, eur["user_id"], eur["id"], today - datetime.timedelta(1), today)
    assert [(r[7], r[8]) for r in rows] == [(None, None), (Decimal("220.00"), "USD")]


def test_a_new_account_reports_its_opening_balance(conn: psycopg.Connection, accounts: list[dict]) -> None:
    account = make_account(conn, accounts[0]["user_id"], "EUR", balance="12.34", masked_account="****9999")
    assert conn.execute(
        "SELECT day = current_date, currency, balance FROM bank.account_balances WHERE account_id = %s",
        (account["id"],),
    ).fetchall() == [(True, "EUR", Decimal("12.34"))]


def test_deleting_an_account_or_a_user_takes_their_flows_and_balances(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    usd, eur, b = accounts[0], accounts[1], accounts[5]
    add_txn(conn, usd, "1.00")
    add_txn(conn, eur, "2.00")
    add_txn(conn, b, "3.00")
    conn.execute("DELETE FROM bank.accounts WHERE id = %s", (usd["id"],))
    assert value(conn, "SELECT count(*) FROM bank.daily_flows WHERE account_id = %s", (usd["id"],)) == 0
    assert value(conn, "SELECT count(*) FROM bank.account_balances WHERE account_id = %s", (usd["id"],)) == 0
    conn.execute("DELETE FROM bank.users WHERE id = %s", (b["user_id"],))
    assert value(conn, "SELECT count(*) FROM bank.daily_flows WHERE user_id = %s", (b["user_id"],)) == 0
    assert kept_flows(conn) == raw_flows(conn)
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []


def test_verify_reports_drifted_flows_and_rebuild_repairs_them(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    usd = accounts[0]
    add_txn(conn, usd, "10.00", txn_date="2025-03-02")
    add_txn(conn, usd, "4.00", "credit", txn_date="2025-03-02")
    add_txn(conn, usd, "1.00", txn_date="2025-03-05")
    conn.execute("UPDATE bank.daily_flows SET credits = 5, txn_count = 7 WHERE day = '2025-03-02'")
    conn.execute("DELETE FROM bank.daily_flows WHERE day = '2025-03-05'")
    u, a = usd["user_id"], usd["id"]
    assert conn.execute("SELECT * FROM bank.verify_totals(%s)", (u,)).fetchall() == [
        ("daily_flows.credits", u, f"account {a} 2025-03-02 USD", Decimal("4.00"), Decimal(5)),
        ("daily_flows.debits", u, f"account {a} 2025-03-05 USD", Decimal("1.00"), Decimal(0)),
        ("daily_flows.txn_count", u, f"account {a} 2025-03-02 USD", Decimal(2), Decimal(7)),
        ("daily_flows.txn_count", u, f"account {a} 2025-03-05 USD", Decimal(1), Decimal(0)),
    ]
    conn.execute("SELECT bank.rebuild_totals(%s)", (u,))
    assert conn.execute("SELECT * FROM bank.verify_totals()").fetchall() == []
    assert kept_flows(conn) == raw_flows(conn)


@pytest.mark.parametrize(("start", "end", "step", "message"), [
    ("2025-03-02", "2025-03-01", "day", "history range 2025-03-02 to 2025-03-01 is not a range of 1 to 3660 days"),
    ("2015-01-01", "2025-01-10", "day", "history range 2015-01-01 to 2025-01-10 is not a range of 1 to 3660 days"),
    (None, "2025-01-01", "day", "history range <NULL> to 2025-01-01 is not a range of 1 to 3660 days"),
    ("2025-01-01", "2025-02-01", "week", "history step 'week' is neither day nor month"),
    ("2025-01-01", "2025-02-01", None, "history step NULL is neither day nor month"),
])
def test_a_bad_range_or_step_is_refused(
    conn: psycopg.Connection, accounts: list[dict], start: str, end: str, step: str, message: str
) -> None:
    with acting(conn, "bank_app", accounts[0]["user_id"]), pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT * FROM api.net_worth_history(%s, %s, %s)", (start, end, step))
    assert (error.value.sqlstate, error.value.diag.message_primary) == ("BKHI1", message)


def test_another_users_account_has_no_history_for_the_acting_user(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    b_account = accounts[5]
    with acting(conn, "bank_app", accounts[0]["user_id"]), pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT * FROM api.balance_history(%s, '2025-01-01', '2025-01-02')", (b_account["id"],))
    assert (error.value.sqlstate, error.value.diag.message_primary) == (
        "BKNF1", f"account {b_account['id']} is not the acting user's"
    )
    with acting(conn, "bank_app", accounts[0]["user_id"]):
        assert value(conn, "SELECT count(*) FROM bank.daily_flows WHERE user_id <> %s",
                     (accounts[0]["user_id"],)) == 0
        assert value(conn, "SELECT count(*) FROM bank.account_balances WHERE user_id <> %s",
                     (accounts[0]["user_id"],)) == 0


def test_accounts_sharing_a_foreign_currency_each_convert_their_own_balance_at_the_days_rate(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    """api.net_worth_history looks a rate up once per currency and day (not per account): two more EUR
    accounts, one a liability, and a second JPY one, with flows on the days a rate changes, still give
    the reference's series, each account's balance rounded on its own before the sums."""
    a = accounts[0]["user_id"]
    more = [
        make_account(conn, a, "EUR", balance="0.05", account_type="investment", masked_account="****0002"),
        make_account(conn, a, "EUR", balance="-99.99", account_type="loan", masked_account="****0003"),
        make_account(conn, a, "JPY", balance="7", masked_account="****0004"),
    ]
    for account, amount, day in ((more[0], "12.34", "2025-05-31"), (more[0], "0.07", "2025-06-01"),
                                 (more[1], "3.33", "2025-06-01"), (more[2], "5", "2025-06-02"),
                                 (accounts[1], "1.11", "2025-05-31")):
        add_txn(conn, account, amount, txn_date=day)
    start, end = datetime.date(2025, 5, 25), datetime.date(2025, 6, 5)
    for step in ("day", "month"):
        rows = net_worth(conn, a, start, end, step)
        assert rows == expected_net_worth(conn, a, start, end, step)
    assert [r[5] for r in net_worth(conn, a, start, end, "day")] == [1] * 7 + [0] * 5  # GBP from June


# api.net_worth_history before its rates were read set-based: each account's balance on each day
# converted by bank.find_exchange_rate, the oracle its rates must equal (pivot and gaps included).
PER_DAY_LOOKUP = """
WITH converted AS (
    SELECT
        b.day,
        b.account_type,
        CASE
            WHEN b.currency = u.base_currency THEN b.balance
            ELSE round(b.balance * bank.find_exchange_rate(b.currency, u.base_currency, b.day), c.minor_unit)
        END AS balance
    FROM bank.balances_by_day(%(user)s, %(from)s, %(to)s) AS b
    CROSS JOIN bank.users AS u
    INNER JOIN bank.currencies AS c ON u.base_currency = c.code
    WHERE u.id = %(user)s
)
SELECT
    d.day::date,
    (SELECT base_currency FROM bank.users WHERE id = %(user)s),
    coalesce(sum(c.balance) FILTER (WHERE c.account_type NOT IN ('credit_card', 'loan')), 0),
    coalesce(-sum(c.balance) FILTER (WHERE c.account_type IN ('credit_card', 'loan')), 0),
    coalesce(sum(c.balance), 0),
    count(*) FILTER (WHERE c.day IS NOT NULL AND c.balance IS NULL)
FROM generate_series(%(from)s::timestamp, %(to)s::timestamp, interval '1 day') AS d (day)
LEFT JOIN converted AS c ON d.day = c.day
GROUP BY d.day
ORDER BY d.day
"""


def test_the_rates_read_for_the_range_are_the_rates_looked_up_per_day(
    conn: psycopg.Connection, accounts: list[dict]
) -> None:
    """A user whose base currency is EUR: USD (the inverse of EUR-USD), GBP (through USD, no rate before
    June 2025), JPY (through USD, both legs inverses) and CHF (no rate at all) accounts; rates that change
    on the range's first day, within it and after it. api.net_worth_history's rates are find_exchange_rate's."""
    for base, quote, day, r in (("EUR", "USD", "2025-05-20", "1.2"), ("EUR", "USD", "2025-05-25", "1.21"),
                                ("GBP", "USD", "2025-06-03", "1.3"), ("USD", "JPY", "2025-06-10", "150"),
                                ("EUR", "USD", "2025-07-01", "1.5")):
        insert(conn, "exchange_rates", base_currency=base, quote_currency=quote, rate_date=day, rate=r)
    e = make_user(conn, "e@example.com", "EUR")
    mine = [make_account(conn, e["id"], currency, balance=balance, account_type=kind, masked_account=f"****000{n}")
            for n, (currency, balance, kind) in enumerate((
                ("USD", "100.00", "checking"), ("GBP", "55.55", "savings"), ("JPY", "123456", "investment"),
                ("CHF", "10.00", "savings"), ("USD", "-33.33", "credit_card"), ("EUR", "7.00", "checking")))]
    add_txn(conn, {**mine[0], "currency": "USD"}, "12.34", txn_date="2025-06-02")
    add_txn(conn, {**mine[1], "currency": "GBP"}, "1.01", "credit", txn_date="2025-06-04")
    for user, start, end in ((e["id"], datetime.date(2025, 5, 25), datetime.date(2025, 6, 30)),
                             (e["id"], datetime.date(2025, 5, 1), datetime.date(2025, 7, 2)),
                             (accounts[0]["user_id"], datetime.date(2024, 11, 20), datetime.date(2025, 7, 1))):
        expected = conn.execute(PER_DAY_LOOKUP, {"user": user, "from": start, "to": end}).fetchall()
        assert net_worth(conn, user, start, end, "day") == expected
        assert len({r[5] for r in expected}) >= 2 and len({r[4] for r in expected}) > 5  # gaps and moves
