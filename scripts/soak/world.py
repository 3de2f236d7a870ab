"""What the soak starts from: its users, their accounts, rules, bills and rewards (setup.sql), and
the constants the clients and the reference share."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg

from bankdb import db

HERE = Path(__file__).resolve().parent

# The one exchange rate (setup.sql): 1 EUR = EUR_USD USD from 2000-01-01 on.
EUR_USD = Decimal("1.0837")
# Rule keywords and the category every rule for that keyword gives (base rules and clients' rules
# alike), so a keyword decides a row's category whichever rule matched it.
CATEGORIES = ("Groceries", "Utilities", "Entertainment", "Transportation", "Healthcare", "Shopping",
              "Subscriptions", "Salary", "Transfer", "Other")
KEYWORDS = {f"kw{i:02d}x": CATEGORIES[i % 9] for i in range(12)}
BILLS = {"Soak Power": Decimal("80.00"), "Soak Phone": Decimal("45.50")}
BILL_CATEGORY = "Utilities"
PROGRAM = "Soak Points"


def to_base(amount: Decimal, currency: str) -> Decimal:
    """amount in USD, the users' base currency, as the trigger computes it (half away from zero)."""
    if currency == "USD":
        return amount
    return (amount * EUR_USD).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rule_category(description: str) -> str | None:
    """The category the user's rules give a row with this description (its keyword's), or None."""
    for keyword, category in KEYWORDS.items():
        if keyword in description:
            return category
    return None


@dataclass
class Account:
    id: int
    kind: str  # checking, savings, credit_card
    currency: str
    balance: Decimal  # at the start


@dataclass
class User:
    id: int
    accounts: dict[str, Account]  # by kind
    reward_id: int
    base_rules: list[tuple[int, str]]  # (rule id, keyword)

    def account(self, kind: str) -> Account | None:
        return self.accounts.get(kind)


@dataclass
class World:
    users: dict[int, User]
    hot: list[int]  # the users many clients act for at once
    today: dt.date
    months: list[dt.date]  # the first days of the months the clients write in, oldest first
    series_start: dt.date  # the first due date of every bill series
    reserved: int | None = None  # a user no client acts for: the fault thread's own

    def client_ids(self) -> list[int]:
        """The users the clients act for."""
        return [u for u in self.ids() if u != self.reserved]

    @property
    def first_day(self) -> dt.date:
        return self.months[0]

    def ids(self) -> list[int]:
        return sorted(self.users)


def months_back(day: dt.date, n: int) -> dt.date:
    """The first day of the month n months before day's."""
    index = day.year * 12 + day.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def make(conninfo: str, users: int, hot: int, months: int, today: dt.date | None = None) -> World:
    """Run setup.sql on a migrated database (as a superuser) and read back what it made: `users`
    users for the clients and one more, the last, for the fault thread alone."""
    today = today or dt.date.today()
    window = [months_back(today, n) for n in range(months - 1, -1, -1)]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        with conn.transaction():
            for name, value in (("users", users + 1), ("today", today), ("keywords", json.dumps(KEYWORDS))):
                conn.execute("SELECT set_config(%s, %s, TRUE)", (f"soak.{name}", str(value)))
            conn.execute("SELECT bank.create_transaction_partitions(%s, %s)", (window[0], today))
            for statement in db.split_statements((HERE / "setup.sql").read_text()):
                conn.execute(statement)
    return read(conninfo, hot, today, window)


def read(conninfo: str, hot: int, today: dt.date, window: list[dt.date]) -> World:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM bank.users WHERE email LIKE 'soak%%@soak.bankdb.test' ORDER BY id").fetchall()]
        made: dict[int, User] = {}
        for user_id in ids:
            accounts = {kind: Account(i, kind, cur, bal) for i, kind, cur, bal in conn.execute(
                "SELECT id, account_type::text, currency, balance FROM bank.accounts WHERE user_id = %s",
                (user_id,)).fetchall()}
            reward = conn.execute("SELECT id FROM bank.rewards WHERE user_id = %s", (user_id,)).fetchone()[0]
            rules = conn.execute(
                "SELECT id, keyword_pattern FROM bank.category_rules WHERE user_id = %s ORDER BY id",
                (user_id,)).fetchall()
            made[user_id] = User(user_id, accounts, reward, [(i, k) for i, k in rules])
        series_start = conn.execute("SELECT min(series_start) FROM bank.bills").fetchone()[0]
    return World(made, ids[:hot], today, window, series_start, reserved=ids[-1])
