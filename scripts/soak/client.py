"""A client of the dashboard: one connection through PgBouncer as a `bank_app` member, acting for one
user per transaction (`api.set_user` first), running a dashboard's mix of reads and writes, and
keeping a ledger of what the server acknowledged.

Each transaction is BEGIN, `api.set_user`, its statements, COMMIT, sent one by one, so the client
knows when COMMIT was in flight. An error before COMMIT means the transaction was rolled back; a
connection lost while COMMIT was in flight leaves its outcome unknown, to be resolved by the
checker from the op's marker. Serialization failures (40001) and deadlocks (40P01) are retried,
whole, as docs/api.md tells applications to.

Rows are changed (moved, recategorized, deleted) only by the client that wrote them, and rules and
budgets only by the client that made them, so each client's ledger orders every change of what it
owns. What others may do to a client's rows is api.apply_category_rules (any client acting for the
user), which categorizes rows without a category: the checker runs it once per user at the end, so
its timing does not matter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import psycopg

from .ledger import (
    ACKED, FAILED, UNKNOWN, Balance, BillPaid, DelRule, DelTxn, Ledger, NewBatch, NewBudget, NewRule, NewTxn, Op,
    RewardEntry, SetBudget, SetRule, SetTxn, Stats, Transfer,
)
from .world import BILL_CATEGORY, BILLS, CATEGORIES, KEYWORDS, World

# The share of each kind of transaction, per 100: a dashboard reads far more than it writes.
MIX = {
    "read": 60,  # the dashboard: accounts, this month's spending and budgets, recent rows, alerts, bills, rewards
    "insert": 12,  # one card purchase or income, by hand or from the bank's feed
    "import": 3,  # a small statement (5-20 rows) through api.import_transactions
    "move": 4,  # a row re-booked into another month
    "category": 4,  # a row's category set (or cleared) by hand
    "delete": 3,
    "edit": 2,  # two rows changed in one transaction by two statements (a category, then a date)
    "transfer": 3,  # two rows written and linked by api.link_transfer, in one transaction
    "bill": 3,  # a bill marked paid, its payment written and the account's balance lowered
    "rule": 2,  # a rule added, changed or deleted, then api.apply_category_rules
    "budget": 2,  # a budget created (or its limit changed by whoever made it)
    "reward": 2,  # points earned or redeemed
}
WRITES = tuple(name for name in MIX if name != "read")
RETRY = {"40001", "40P01"}  # serialization failure, deadlock: retried, as docs/api.md says
MAX_ATTEMPTS = 10
# Errors that are part of the run: retried ones, the faults' own, and BKRW1 (a redemption larger
# than the balance, which concurrent redemptions make). Any other SQLSTATE is a problem.
EXPECTED = RETRY | {"25006", "57014", "BKRW1", "lost"}
# Errors the soak found in bankdb and reported (docs/benchmark/soak.md, findings), by SQLSTATE and
# constraint: counted and listed, but they do not fail the run (the transaction is rolled back, and
# the checker proves nothing of it was written). Remove an entry once the schema no longer raises it.
# Empty: "23503 transactions_user_id_category_rule_id_fkey" (a row written while a rule that
# categorizes it is deleted, finding 1) went when bank.matching_rule began to lock the rule it picks.
KNOWN: dict[str, str] = {}
MERCHANTS = ("Corner Market", "City Transit", "Cinema Nova", "Pharma Plus", "Web Shop", "Stream Co", "Fuel Stop")
NOOP = object()  # what a transaction's body returns when it found nothing to do: rolled back


def lost_connection(exc: psycopg.Error, conn: psycopg.Connection) -> bool:
    """Whether the connection is gone (the server, or PgBouncer, or the network): no SQLSTATE, a
    connection exception (08...), or the server shutting down or crashed (57P01-57P03)."""
    state = exc.sqlstate
    return conn.closed or conn.broken or state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


@dataclass
class Live:
    """A row this client wrote, as it is now: what the client may change next."""
    description: str
    id: int
    txn_date: dt.date
    category: str | None  # as set by hand or at insert; None: the rules decide


class Pool:
    """A set with random choice and removal in constant time."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.where: dict[str, int] = {}
        self.rows: dict[str, Live] = {}

    def add(self, row: Live) -> None:
        if row.description not in self.where:
            self.where[row.description] = len(self.items)
            self.items.append(row.description)
        self.rows[row.description] = row

    def remove(self, description: str) -> None:
        index = self.where.pop(description, None)
        if index is None:
            return
        last = self.items.pop()
        if last != description:
            self.items[index] = last
            self.where[last] = index
        del self.rows[description]

    def choice(self, rng: random.Random) -> Live | None:
        return self.rows[rng.choice(self.items)] if self.items else None

    def __len__(self) -> int:
        return len(self.items)


class Client:
    def __init__(self, index: int, world: World, conninfo: str, stop: threading.Event, seed: int,
                 hot_share: float = 0.5, clear_share: float = 0.15, mix: dict[str, int] | None = None) -> None:
        self.index = index
        self.world = world
        self.conninfo = conninfo
        self.stop = stop
        self.rng = random.Random(seed * 1000 + index)
        self.hot_share = hot_share
        self.clear_share = clear_share  # of category changes, those that clear the category
        self.mix = mix or MIX
        self.ledger = Ledger(index)
        self.stats = Stats()
        self.conn: psycopg.Connection | None = None
        self.seq = 0
        self.losses = 0  # connections lost in a row: the pause before the next attempt grows with them
        self.rows: dict[int, Pool] = {u: Pool() for u in world.users}
        self.rules: dict[int, dict[int, tuple[int, str, bool]]] = {u: {} for u in world.users}  # priority -> (id, kw, on)
        self.budgets: dict[int, dict[tuple, tuple[int, Decimal]]] = {u: {} for u in world.users}  # key -> (id, limit)
        self.newest: dict[int, str] = {}  # per user, the newest row this client wrote (read back by reads)
        self.ops = {name: getattr(self, f"op_{name}") for name in MIX}

    # -- connection --------------------------------------------------------------------------

    def connect(self, give_up: float = 300.0) -> bool:
        """(Re)connect through PgBouncer, retrying while the server or PgBouncer is down."""
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
            self.conn = None
        deadline = time.monotonic() + give_up
        pause = 0.05
        while True:
            try:
                # No server-side prepared statements: a transaction pool hands each transaction to any server.
                self.conn = psycopg.connect(self.conninfo, autocommit=True, prepare_threshold=None)
                return True
            except psycopg.Error:
                if self.stop.is_set() or time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def reconnect(self) -> None:
        """After a lost connection: a pause that grows while the losses go on (not to hammer a
        server that is restarting), then a new connection."""
        self.losses += 1
        time.sleep(min(1.0, 0.01 * 2 ** self.losses) * (0.5 + self.rng.random()))
        self.connect()

    def run(self) -> None:
        if not self.connect():
            return
        names, weights = list(self.mix), list(self.mix.values())
        while not self.stop.is_set() and self.conn is not None:
            self.ops[self.rng.choices(names, weights)[0]](self.pick_user())

    # -- choices -----------------------------------------------------------------------------

    def pick_user(self) -> int:
        if self.world.hot and self.rng.random() < self.hot_share:
            return self.rng.choice(self.world.hot)
        return self.rng.choice(self.world.client_ids())

    def marker(self) -> str:
        self.seq += 1
        return f"s{self.index:02d}n{self.seq:07d}"

    def unique_int(self) -> int:
        """A positive integer no other op of any client uses (rules' priorities carry it)."""
        return self.index * 10_000_000 + self.seq

    def day(self) -> dt.date:
        span = (self.world.today - self.world.first_day).days
        return self.world.first_day + dt.timedelta(days=self.rng.randint(0, span))

    def other_month_day(self, day: dt.date) -> dt.date:
        months = [m for m in self.world.months if (m.year, m.month) != (day.year, day.month)]
        first = self.rng.choice(months)
        last = min(self.world.today, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def amount(self, low: int = 100, high: int = 25000) -> Decimal:
        return Decimal(self.rng.randint(low, high)) / 100

    def account(self, user: int, card: bool = True):
        accounts = self.world.users[user].accounts
        r = self.rng.random()
        if card and r < 0.15 and "credit_card" in accounts:
            return accounts["credit_card"]
        return accounts["savings"] if r > 0.85 else accounts["checking"]

    # -- one transaction -----------------------------------------------------------------------

    def transact(self, name: str, user: int, marker: str, effects: list,
                 body: Callable[[psycopg.Connection], object]) -> Op | None:
        """BEGIN, api.set_user, body (which returns what to do once acknowledged, or NOOP), COMMIT;
        retried whole on 40001 and 40P01. Writes are recorded in the ledger with their outcome."""
        op = Op(self.index, self.seq, name, user, marker, effects=effects)
        started = time.monotonic()
        for attempt in range(MAX_ATTEMPTS):
            conn = self.conn
            if conn is None:
                return None
            phase = "begin"
            try:
                conn.execute("BEGIN")
                conn.execute("SELECT api.set_user(%s)", (user,))
                phase = "statements"
                then = body(conn)
                if then is NOOP:
                    conn.execute("ROLLBACK")
                    self.stats.noop[name] += 1
                    return None
                phase = "commit"
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                state = exc.sqlstate or "lost"
                lost = lost_connection(exc, conn)
                now = time.monotonic()
                op.message = " ".join(str(exc).split())[:300]
                self.stats.events.append((now, name, state))
                known = f"{state} {exc.diag.constraint_name}"
                if known in KNOWN:
                    self.stats.known[known] += 1
                elif state not in EXPECTED and not lost:
                    self.stats.problems.append(f"error: unexpected {state} in {name} {marker} (user {user}): {op.message}")
                if not lost:
                    try:
                        conn.execute("ROLLBACK")
                    except psycopg.Error:
                        lost = True
                if lost and phase == "commit" and name != "read":
                    op.status, op.sqlstate, op.at = UNKNOWN, state, now
                    self.stats.unknown[name] += 1
                    self.stats.errors[name][state] += 1
                    self.taint(op.effects)
                    self.ledger.add(op)
                    self.reconnect()
                    return op
                if state in RETRY and not lost and attempt + 1 < MAX_ATTEMPTS:
                    self.stats.retries[name][state] += 1
                    time.sleep(min(0.5, 0.005 * 2 ** attempt) * (0.5 + self.rng.random()))
                    continue
                op.status, op.sqlstate, op.at = FAILED, state, now
                self.stats.failed[name] += 1
                self.stats.errors[name][state] += 1
                if name != "read":
                    self.ledger.add(op)
                if lost:
                    self.reconnect()
                return op
            else:
                now = time.monotonic()
                self.losses = 0
                op.status, op.at = ACKED, now
                self.stats.ok[name] += 1
                self.stats.latencies[name].append((now - started) * 1000)
                if name != "read":
                    self.stats.write_acks.append((now, (now - started) * 1000))
                    self.ledger.add(op)
                if callable(then):
                    then()
                return op
        return None

    def taint(self, effects: list) -> None:
        """After an unknown outcome, the client no longer touches what the op touched."""
        for effect in effects:
            if isinstance(effect, (SetTxn, DelTxn)):
                self.rows[effect.user].remove(effect.description)
                if self.newest.get(effect.user) == effect.description:
                    del self.newest[effect.user]
            elif isinstance(effect, (SetRule, DelRule)):
                self.rules[effect.user].pop(effect.before if isinstance(effect, SetRule) else effect.priority, None)
            elif isinstance(effect, SetBudget):
                self.budgets[effect.user].pop((effect.year, effect.month, effect.category), None)

    def problem(self, text: str) -> None:
        self.stats.problems.append(text)

    # -- the dashboard -----------------------------------------------------------------------

    def op_read(self, user: int) -> None:
        month = self.world.months[-1]
        newest = self.newest.get(user)
        newest_row = self.rows[user].rows.get(newest) if newest else None

        def body(conn: psycopg.Connection):
            seen: set[int] = set()
            for query, params in (
                ("SELECT user_id, id, balance FROM api.account_summary ORDER BY created_at DESC", ()),
                ("SELECT user_id, category, spending FROM api.monthly_spending WHERE month = %s"
                 " ORDER BY spending DESC", (month,)),
                ("SELECT user_id, category, status FROM api.budget_status WHERE year = %s AND month = %s",
                 (month.year, month.month)),
                ("SELECT user_id, id, description FROM api.recent_transactions ORDER BY txn_date DESC, id DESC"
                 " LIMIT 20", ()),
                ("SELECT user_id, message FROM api.unread_alerts ORDER BY created_at DESC LIMIT 20", ()),
                ("SELECT user_id, biller_name, due_date FROM api.upcoming_bills ORDER BY due_date", ()),
                ("SELECT user_id, points_balance FROM api.rewards_summary", ()),
            ):
                seen.update(row[0] for row in conn.execute(query, params).fetchall())
            if seen - {user}:
                self.problem(f"leak: a read acting for user {user} got rows of users {sorted(seen - {user})}")
            if newest_row is not None:
                # The client's own newest acknowledged row is there for the next read (through the pool).
                found = conn.execute(
                    "SELECT count(*) FROM api.recent_transactions WHERE txn_date = %s AND description = %s",
                    (newest_row.txn_date, newest)).fetchone()[0]
                if found != 1:
                    self.problem(f"lost: user {user}'s acknowledged row {newest!r} ({newest_row.txn_date}) "
                                 f"not seen by the next read ({found} found)")
            return None

        self.transact("read", user, "", [], body)

    # -- writes ------------------------------------------------------------------------------

    def op_insert(self, user: int, during: Callable[[], object] | None = None) -> Op | None:
        marker = self.marker()
        account = self.account(user)
        mode = self.rng.random()
        keyword = self.rng.choice(list(KEYWORDS)) if mode < 0.85 and (mode > 0.35 or self.rng.random() < 0.5) else None
        category = self.rng.choice(CATEGORIES) if mode < 0.35 else None
        txn = NewTxn(
            user=user, description=f"soak {marker} {keyword or 'plain'}", account=account.id,
            amount=self.amount(), currency=account.currency,
            txn_type="credit" if self.rng.random() < 0.15 else "debit", txn_date=self.day(), category=category,
            external_id=marker if self.rng.random() < 0.6 else None,
        )

        def body(conn: psycopg.Connection):
            (new_id,) = conn.execute(
                "INSERT INTO bank.transactions (account_id, description, category, amount, currency, txn_type, "
                "merchant, txn_date, external_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (txn.account, txn.description, txn.category, txn.amount, txn.currency, txn.txn_type,
                 self.rng.choice(MERCHANTS), txn.txn_date, txn.external_id),
            ).fetchone()
            if during is not None:
                during()  # with the row written and the transaction open
            return lambda: self.own(user, Live(txn.description, new_id, txn.txn_date, txn.category), newest=True)

        return self.transact("insert", user, marker, [txn], body)

    def own(self, user: int, row: Live, newest: bool = False) -> None:
        self.rows[user].add(row)
        if newest:
            self.newest[user] = row.description

    def op_import(self, user: int, rows: int | None = None, timeout: str | None = None) -> Op | None:
        marker = self.marker()
        account = self.account(user)
        count = rows or self.rng.randint(5, 20)
        bad = rows is None and self.rng.random() < 0.2  # one row the import must reject (too many decimals)
        txns, payload = [], []
        for i in range(count):
            keyword = self.rng.choice(list(KEYWORDS)) if self.rng.random() < 0.6 else None
            category = self.rng.choice(CATEGORIES) if self.rng.random() < 0.2 else None
            txn = NewTxn(
                user=user, description=f"soak {marker}r{i:04d} {keyword or 'plain'}", account=account.id,
                amount=self.amount(), currency=account.currency,
                txn_type="credit" if self.rng.random() < 0.15 else "debit", txn_date=self.day(),
                category=category, external_id=f"{marker}r{i:04d}" if self.rng.random() < 0.8 else None,
                batch=marker,
            )
            txns.append(txn)
            row = {"txn_date": txn.txn_date.isoformat(), "description": txn.description,
                   "amount": str(-txn.amount if txn.txn_type == "debit" else txn.amount),
                   "merchant": self.rng.choice(MERCHANTS)}
            if txn.category:
                row["category"] = txn.category
            if txn.external_id:
                row["external_id"] = txn.external_id
            payload.append(row)
        if bad:
            payload.insert(self.rng.randint(0, len(payload)), {
                "txn_date": self.day().isoformat(), "amount": "-1.234", "description": f"soak {marker}bad"})
        text = json.dumps(payload)
        batch = NewBatch(user, account.id, marker, count, int(bad))

        def body(conn: psycopg.Connection):
            if timeout:
                conn.execute("SELECT set_config('statement_timeout', %s, TRUE)", (timeout,))
            got = conn.execute(
                "SELECT inserted_count, duplicate_count, rejected_count FROM api.import_transactions("
                "p_account_id => %s, p_rows => %s::jsonb, p_source => %s, p_file_sha256 => %s, p_partial => %s)",
                (account.id, text, marker, hashlib.sha256(text.encode()).hexdigest(), bad),
            ).fetchone()
            if got != (count, 0, int(bad)):
                self.problem(f"drift: import {marker} (user {user}) counted {got} (inserted, duplicates, rejected), "
                             f"expected {(count, 0, int(bad))}")
            ids = dict(conn.execute(
                "SELECT external_id, transaction_id FROM bank.transaction_external_ids"
                " WHERE account_id = %s AND external_id = ANY(%s)",
                (account.id, [t.external_id for t in txns if t.external_id]),
            ).fetchall())

            def then() -> None:
                for t in txns:
                    if t.external_id in ids:
                        self.own(user, Live(t.description, ids[t.external_id], t.txn_date, t.category))
            return then

        return self.transact("import", user, marker, [batch, *txns], body)

    def op_move(self, user: int) -> None:
        row = self.rows[user].choice(self.rng)
        if row is None:
            return self.op_insert(user)
        marker = self.marker()
        new_date = self.other_month_day(row.txn_date)
        effect = SetTxn(user, row.description, "txn_date", row.txn_date, new_date)

        def body(conn: psycopg.Connection):
            if not self.own_row_changed(conn, user, row, "UPDATE bank.transactions SET txn_date = %s"
                                        " WHERE id = %s AND txn_date = %s RETURNING id", (new_date, row.id, row.txn_date)):
                return NOOP
            return lambda: self.own(user, replace(row, txn_date=new_date))

        self.transact("move", user, marker, [effect], body)

    def own_row_changed(self, conn: psycopg.Connection, user: int, row: Live, query: str, params: tuple) -> bool:
        if conn.execute(query, params).fetchone() is None:
            self.problem(f"lost: user {user}'s acknowledged row {row.description!r} (id {row.id}, {row.txn_date}) "
                         "was not there to change")
            self.rows[user].remove(row.description)
            return False
        return True

    def op_category(self, user: int) -> None:
        row = self.rows[user].choice(self.rng)
        if row is None:
            return self.op_insert(user)
        marker = self.marker()
        new = None if self.rng.random() < self.clear_share else self.rng.choice([c for c in CATEGORIES if c != row.category])
        if new is None and row.category is None:
            new = self.rng.choice(CATEGORIES)  # a change, always
        effect = SetTxn(user, row.description, "category", row.category, new)

        def body(conn: psycopg.Connection):
            if not self.own_row_changed(conn, user, row, "UPDATE bank.transactions SET category = %s"
                                        " WHERE id = %s AND txn_date = %s RETURNING id", (new, row.id, row.txn_date)):
                return NOOP
            return lambda: self.own(user, replace(row, category=new))

        self.transact("category", user, marker, [effect], body)

    def op_edit(self, user: int) -> None:
        """Two of the client's rows changed in one transaction, one statement each: the second locks
        totals rows while the first's are held, the pattern docs/stored-logic.md says may deadlock
        (40P01, retried whole)."""
        pool = self.rows[user]
        if len(pool) < 2:
            return self.op_insert(user)
        first = pool.choice(self.rng)
        second = pool.choice(self.rng)
        while second.description == first.description:
            second = pool.choice(self.rng)
        marker = self.marker()
        category = self.rng.choice([c for c in CATEGORIES if c != first.category])
        new_date = self.other_month_day(second.txn_date)
        effects = [SetTxn(user, first.description, "category", first.category, category),
                   SetTxn(user, second.description, "txn_date", second.txn_date, new_date)]

        def body(conn: psycopg.Connection):
            if not (self.own_row_changed(conn, user, first, "UPDATE bank.transactions SET category = %s"
                                         " WHERE id = %s AND txn_date = %s RETURNING id",
                                         (category, first.id, first.txn_date))
                    and self.own_row_changed(conn, user, second, "UPDATE bank.transactions SET txn_date = %s"
                                             " WHERE id = %s AND txn_date = %s RETURNING id",
                                             (new_date, second.id, second.txn_date))):
                return NOOP

            def then() -> None:
                self.own(user, replace(first, category=category))
                self.own(user, replace(second, txn_date=new_date))
            return then

        self.transact("edit", user, marker, effects, body)

    def op_delete(self, user: int) -> None:
        row = self.rows[user].choice(self.rng)
        if row is None:
            return self.op_insert(user)
        marker = self.marker()

        def body(conn: psycopg.Connection):
            if not self.own_row_changed(conn, user, row, "DELETE FROM bank.transactions"
                                        " WHERE id = %s AND txn_date = %s RETURNING id", (row.id, row.txn_date)):
                return NOOP

            def then() -> None:
                self.rows[user].remove(row.description)
                if self.newest.get(user) == row.description:
                    del self.newest[user]
            return then

        self.transact("delete", user, marker, [DelTxn(user, row.description)], body)

    def op_transfer(self, user: int) -> None:
        marker = self.marker()
        accounts = self.world.users[user].accounts
        amount, day = self.amount(), self.day()
        debit = NewTxn(user, f"soak {marker}d transfer out", accounts["checking"].id, amount, "USD", "debit", day,
                       None, None, kind="transfer", transfer=marker)
        credit = replace(debit, description=f"soak {marker}c transfer in", account=accounts["savings"].id,
                         txn_type="credit")
        effects = [debit, credit, Transfer(user, marker, debit.description, credit.description, None)]

        def body(conn: psycopg.Connection):
            ids = dict((kind, i) for i, kind in conn.execute(
                "INSERT INTO bank.transactions (account_id, description, amount, currency, txn_type, txn_date)"
                " VALUES (%s, %s, %s, 'USD', 'debit', %s), (%s, %s, %s, 'USD', 'credit', %s) RETURNING id, txn_type::text",
                (debit.account, debit.description, amount, day, credit.account, credit.description, amount, day),
            ).fetchall())
            (transfer_id,) = conn.execute("SELECT api.link_transfer(%s, %s)", (ids["debit"], ids["credit"])).fetchone()
            effects[2] = replace(effects[2], transfer_id=transfer_id)
            return None

        self.transact("transfer", user, marker, effects, body)

    def op_bill(self, user: int) -> None:
        marker = self.marker()
        biller = self.rng.choice(list(BILLS))
        account = self.world.users[user].accounts["checking"]
        amount = BILLS[biller]
        payment = NewTxn(user, f"soak {marker} bill {biller}", account.id, amount, "USD", "debit", self.world.today,
                         BILL_CATEGORY, marker)
        effects = [payment, BillPaid(user, biller, amount), Balance(user, account.id, -amount)]

        def body(conn: psycopg.Connection):
            # Two clients paying the same bill: the second waits, finds it paid, and pays nothing.
            paid = conn.execute(
                "UPDATE bank.bills SET status = 'paid' WHERE id = (SELECT b.id FROM bank.bills AS b"
                " WHERE b.biller_name = %s AND b.status <> 'paid' ORDER BY b.occurrence LIMIT 1)"
                " AND status <> 'paid' RETURNING amount_due", (biller,)).fetchone()
            if paid is None:
                return NOOP
            (new_id,) = conn.execute(
                "INSERT INTO bank.transactions (account_id, description, category, amount, currency, txn_type,"
                " merchant, txn_date, external_id) VALUES (%s, %s, %s, %s, 'USD', 'debit', %s, %s, %s) RETURNING id",
                (account.id, payment.description, BILL_CATEGORY, paid[0], biller, payment.txn_date, marker),
            ).fetchone()
            conn.execute("UPDATE bank.accounts SET balance = balance - %s WHERE id = %s", (paid[0], account.id))
            return lambda: self.own(user, Live(payment.description, new_id, payment.txn_date, BILL_CATEGORY))

        self.transact("bill", user, marker, effects, body)

    def op_rule(self, user: int) -> None:
        marker = self.marker()
        own = self.rules[user]
        r = self.rng.random()
        priority = self.unique_int()
        if not own or r < 0.5:
            keyword = self.rng.choice(list(KEYWORDS))
            active = self.rng.random() < 0.8
            effect = NewRule(user, priority, keyword, active)
            statement = ("INSERT INTO bank.category_rules (category, keyword_pattern, priority, is_active)"
                         " VALUES (%s, %s, %s, %s) RETURNING id", (KEYWORDS[keyword], keyword, priority, active))

            def then(rule_id: int) -> None:
                own[priority] = (rule_id, keyword, active)
        else:
            before = self.rng.choice(list(own))
            rule_id, keyword, active = own[before]
            if r < 0.8:
                effect = SetRule(user, before, priority, not active)
                statement = ("UPDATE bank.category_rules SET priority = %s, is_active = %s WHERE id = %s RETURNING id",
                             (priority, not active, rule_id))

                def then(_: int) -> None:
                    del own[before]
                    own[priority] = (rule_id, keyword, not active)
            else:
                effect = DelRule(user, before)
                statement = ("DELETE FROM bank.category_rules WHERE id = %s RETURNING id", (rule_id,))

                def then(_: int) -> None:
                    del own[before]

        def body(conn: psycopg.Connection):
            got = conn.execute(*statement).fetchone()
            if got is None:
                self.problem(f"lost: user {user}'s rule ({effect}) was not there to change")
                return NOOP
            conn.execute("SELECT api.apply_category_rules()")
            return lambda: then(got[0])

        self.transact("rule", user, marker, [effect], body)

    def op_budget(self, user: int) -> None:
        marker = self.marker()
        own = self.budgets[user]
        limit = Decimal(f"{1000 + self.seq}.{self.index:02d}")  # unique: names the op that set it
        if own and self.rng.random() < 0.3:
            key = self.rng.choice(list(own))
            budget_id, before = own[key]
            effect = SetBudget(user, *key, before, limit)

            def body(conn: psycopg.Connection):
                if conn.execute("UPDATE bank.budgets SET limit_amount = %s WHERE id = %s RETURNING id",
                                (limit, budget_id)).fetchone() is None:
                    self.problem(f"lost: user {user}'s budget {key} (id {budget_id}) was not there to change")
                    return NOOP
                return lambda: own.__setitem__(key, (budget_id, limit))
        else:
            month = self.rng.choice(self.world.months)
            key = (month.year, month.month, self.rng.choice(CATEGORIES))
            effect = NewBudget(user, *key, limit)

            def body(conn: psycopg.Connection):
                got = conn.execute(
                    "INSERT INTO bank.budgets (year, month, category, limit_amount) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (user_id, year, month, category) DO NOTHING RETURNING id", (*key, limit)).fetchone()
                if got is None:
                    return NOOP  # someone made that budget first
                return lambda: own.__setitem__(key, (got[0], limit))

        self.transact("budget", user, marker, [effect], body)

    def op_reward(self, user: int) -> None:
        marker = self.marker()
        earn = self.rng.random() < 0.8
        entry = RewardEntry(user, self.world.users[user].reward_id, f"soak {marker}", "earn" if earn else "redeem",
                            self.rng.randint(10, 500 if earn else 300))

        def body(conn: psycopg.Connection):
            conn.execute("INSERT INTO bank.reward_entries (reward_id, entry_type, points, description)"
                         " VALUES (%s, %s, %s, %s)", (entry.reward_id, entry.entry_type, entry.points, entry.description))
            return None

        self.transact("reward", user, marker, [entry], body)
