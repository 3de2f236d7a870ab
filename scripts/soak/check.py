"""The checks after the run, once the clients have stopped and every fault is over.

1. api.apply_category_rules() once per user (as a client would): the one change another client may
   make to a client's rows is categorizing those without a category, and this fixes its timing.
2. What the server holds, read per user as the application login (under row-level security).
3. Every op left unknown (the connection lost while its COMMIT was in flight) is resolved from its
   markers: all of what it wrote is there, or none of it (else: half-done).
4. The reference: the world as set up, then every acknowledged (or resolved-committed) op of every
   ledger replayed in its client's order. Each row, rule, budget, reward entry and batch belongs
   to the client that wrote it, and totals, balances and bill counts are sums, so the clients'
   orders are all the order there is.
5. Compared: the tables' rows with the reference (lost: an acknowledged write missing;
   unacknowledged: a write whose op failed, present; drift: a value the ledgers do not give), the
   api views' answers with the reference (spending, budgets, balances, rewards, bills, cash flow),
   no view answering another user's row or any row with no user set, bank.verify_totals() empty.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

import psycopg

from .ledger import (
    ACKED, UNKNOWN, Balance, BillPaid, DelRule, DelTxn, NewBatch, NewBudget, NewRule, NewTxn, Op, RewardEntry,
    SetBudget, SetRule, SetTxn, Transfer,
)
from .world import BILLS, KEYWORDS, World, rule_category, to_base

KINDS = ("lost", "unacknowledged", "half-done", "drift", "leak", "error")


@dataclass
class Problem:
    kind: str  # one of KINDS
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    resolved: Counter = field(default_factory=Counter)  # unknown ops: committed / not committed
    counts: dict = field(default_factory=dict)  # what was compared

    def add(self, kind: str, text: str) -> None:
        self.problems.append(Problem(kind, text))

    @property
    def passed(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        """One line: the first problem of the most serious kind, and how many there are."""
        if not self.problems:
            return "no lost write, no drift, no leak"
        by_kind = Counter(p.kind for p in self.problems)
        first = min(self.problems, key=lambda p: KINDS.index(p.kind))
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(by_kind.items(), key=lambda kv: KINDS.index(kv[0])))
        return f"{first} ({summary})"


# -- what the server holds ----------------------------------------------------------------------


@dataclass
class Snapshot:
    txns: dict = field(default_factory=dict)  # description -> row
    ext_ids: set = field(default_factory=set)  # (user, account, external_id, transaction_id)
    batches: dict = field(default_factory=dict)  # (user, source) -> row
    rules: dict = field(default_factory=dict)  # user -> [row]
    budgets: dict = field(default_factory=dict)  # (user, year, month, category) -> row
    entries: dict = field(default_factory=dict)  # description -> row
    accounts: dict = field(default_factory=dict)  # account id -> row
    bills: dict = field(default_factory=dict)  # (user, biller) -> [row]
    views: dict = field(default_factory=dict)  # (user, view) -> rows


def rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[dict]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(query, params).fetchall()


def acting(conn: psycopg.Connection, user: int):
    conn.execute("BEGIN")
    conn.execute("SELECT api.set_user(%s)", (user,))


VIEW_QUERIES = {
    "monthly_spending": "SELECT month, category, spending, income, txn_count FROM api.monthly_spending",
    "budget_status": "SELECT year, month, category, limit_amount, spent_amount, remaining, status FROM api.budget_status",
    "recent_transactions": "SELECT id, description, txn_date, account_id, category, amount, currency, txn_type::text,"
                           " kind::text, base_amount FROM api.recent_transactions",
    "recent_50": "SELECT description FROM api.recent_transactions ORDER BY txn_date DESC, id DESC LIMIT 50",
    "account_summary": "SELECT id, balance, currency, balance_in_base_currency FROM api.account_summary",
    "rewards_summary": "SELECT id, points_balance, points_earned, points_redeemed FROM api.rewards_summary",
    "upcoming_bills": "SELECT biller_name, due_date, amount_due FROM api.upcoming_bills",
    "cash_flow": "SELECT month, income, spending, net FROM api.cash_flow",
}


def read_snapshot(conninfo: str, world: World, result: CheckResult) -> Snapshot:
    snap = Snapshot()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        api_views = [v for (v,) in conn.execute(
            "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'api' AND c.relkind = 'v' AND c.relname NOT LIKE 'admin%%' ORDER BY 1").fetchall()]
        # No user set: no view answers a row.
        conn.execute("BEGIN")
        for view in api_views:
            (n,) = conn.execute(f"SELECT count(*) FROM api.{view}").fetchone()
            if n:
                result.add("leak", f"api.{view} answered {n} row(s) with no acting user")
        conn.execute("COMMIT")
        for user in world.ids():
            acting(conn, user)
            for view in api_views:
                others = {u for (u,) in conn.execute(f"SELECT DISTINCT user_id FROM api.{view}").fetchall()} - {user}
                if others:
                    result.add("leak", f"api.{view} acting for user {user} answered rows of users {sorted(others)}")
            for row in rows(conn, "SELECT id, user_id, description, account_id, amount, currency, txn_type::text,"
                                  " txn_date, category, kind::text, transfer_id, external_id, base_amount,"
                                  " import_batch_id FROM bank.transactions"):
                if row["description"] in snap.txns:
                    result.add("drift", f"two transactions are described {row['description']!r}")
                snap.txns[row["description"]] = row
            snap.ext_ids |= {tuple(r) for r in conn.execute(
                "SELECT user_id, account_id, external_id, transaction_id FROM bank.transaction_external_ids").fetchall()}
            for row in rows(conn, "SELECT id, source, inserted_count, duplicate_count, rejected_count"
                                  " FROM bank.import_batches"):
                snap.batches[(user, row["source"])] = row
            snap.rules[user] = rows(conn, "SELECT id, priority, keyword_pattern, category, is_active"
                                          " FROM bank.category_rules")
            for row in rows(conn, "SELECT id, year, month, category, limit_amount, spent_amount FROM bank.budgets"):
                snap.budgets[(user, row["year"], row["month"], row["category"])] = row
            for row in rows(conn, "SELECT description, entry_type::text, points FROM bank.reward_entries"):
                snap.entries[row["description"]] = row
            for row in rows(conn, "SELECT id, balance, currency FROM bank.accounts"):
                snap.accounts[row["id"]] = row
            for row in rows(conn, "SELECT biller_name, occurrence, status::text, due_date, amount_due FROM bank.bills"
                                  " ORDER BY biller_name, occurrence"):
                snap.bills.setdefault((user, row["biller_name"]), []).append(row)
            for name, query in VIEW_QUERIES.items():
                snap.views[(user, name)] = rows(conn, query)
            conn.execute("COMMIT")
    return snap


# -- the reference ------------------------------------------------------------------------------


def expected_category(description: str, written: str | None) -> str | None:
    """A category set by hand (or at insert) stays; else the rules give the keyword's, or none."""
    return written if written is not None else rule_category(description)


@dataclass
class Reference:
    txns: dict = field(default_factory=dict)  # description -> dict of NewTxn's fields
    origin: dict = field(default_factory=dict)  # description -> the op that wrote it
    batches: dict = field(default_factory=dict)  # (user, source) -> NewBatch
    transfers: list = field(default_factory=list)
    rules: dict = field(default_factory=dict)  # user -> {priority: (keyword, active)} (the clients' rules)
    budgets: dict = field(default_factory=dict)  # (user, year, month, category) -> limit
    entries: dict = field(default_factory=dict)  # description -> RewardEntry
    balances: dict = field(default_factory=dict)  # account id -> balance
    bills_paid: Counter = field(default_factory=Counter)  # (user, biller) -> payments

    @classmethod
    def start(cls, world: World) -> Reference:
        ref = cls()
        for user in world.users.values():
            ref.rules[user.id] = {}
            for account in user.accounts.values():
                ref.balances[account.id] = account.balance
        return ref

    def apply(self, op: Op, result: CheckResult) -> None:
        try:
            self._apply(op)
        except KeyError as exc:  # a change of something no earlier op of that client made: the soak's own bug
            result.add("error", f"the ledger of client {op.client} changes {exc} before making it ({op.label()})")

    def _apply(self, op: Op) -> None:
        for e in op.effects:
            if isinstance(e, NewTxn):
                self.txns[e.description] = asdict(e)
                self.origin[e.description] = op
            elif isinstance(e, SetTxn):
                self.txns[e.description][e.column] = e.after
            elif isinstance(e, DelTxn):
                del self.txns[e.description]
            elif isinstance(e, NewBatch):
                self.batches[(e.user, e.source)] = e
            elif isinstance(e, Transfer):
                self.transfers.append((op, e))
            elif isinstance(e, NewRule):
                self.rules[e.user][e.priority] = (e.keyword, e.active)
            elif isinstance(e, SetRule):
                keyword, _ = self.rules[e.user].pop(e.before)
                self.rules[e.user][e.after] = (keyword, e.active)
            elif isinstance(e, DelRule):
                del self.rules[e.user][e.priority]
            elif isinstance(e, NewBudget):
                self.budgets[(e.user, e.year, e.month, e.category)] = e.limit
            elif isinstance(e, SetBudget):
                self.budgets[(e.user, e.year, e.month, e.category)] = e.after
            elif isinstance(e, RewardEntry):
                self.entries[e.description] = e
            elif isinstance(e, BillPaid):
                self.bills_paid[(e.user, e.biller)] += 1
            elif isinstance(e, Balance):
                self.balances[e.account] += e.delta

    def totals(self) -> dict:
        """(user, month, category) -> [spending, income, count], from the rows: regular ones only,
        no category counted as Other, in the base currency."""
        out: dict = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        for t in self.txns.values():
            if t["kind"] != "regular":
                continue
            key = (t["user"], t["txn_date"].replace(day=1), expected_category(t["description"], t["category"]) or "Other")
            base = to_base(t["amount"], t["currency"])
            out[key][0 if t["txn_type"] == "debit" else 1] += base
            out[key][2] += 1
        return out


# -- resolving unknown outcomes -----------------------------------------------------------------


def vote(effect, snap: Snapshot) -> bool | None:
    """Whether what the server holds says this effect committed (None: it cannot tell)."""
    if isinstance(effect, NewTxn):
        return effect.description in snap.txns
    if isinstance(effect, DelTxn):
        return effect.description not in snap.txns
    if isinstance(effect, SetTxn):
        row = snap.txns.get(effect.description)
        if row is None:
            return None
        if effect.column == "category":
            now = row["category"]
            after = expected_category(effect.description, effect.after)
            before = expected_category(effect.description, effect.before)
        else:
            now, after, before = row[effect.column], effect.after, effect.before
        if after == before or now not in (after, before):
            return None
        return now == after
    if isinstance(effect, NewBatch):
        return (effect.user, effect.source) in snap.batches
    if isinstance(effect, RewardEntry):
        return effect.description in snap.entries
    priorities = lambda user: {r["priority"] for r in snap.rules.get(user, [])}  # noqa: E731
    if isinstance(effect, NewRule):
        return effect.priority in priorities(effect.user)
    if isinstance(effect, SetRule):
        have = priorities(effect.user)
        return True if effect.after in have else False if effect.before in have else None
    if isinstance(effect, DelRule):
        return effect.priority not in priorities(effect.user)
    if isinstance(effect, (NewBudget, SetBudget)):
        row = snap.budgets.get((effect.user, effect.year, effect.month, effect.category))
        limit = effect.limit if isinstance(effect, NewBudget) else effect.after
        if row is None:
            return False if isinstance(effect, NewBudget) else None
        if isinstance(effect, SetBudget) and row["limit_amount"] not in (effect.before, effect.after):
            return None
        return row["limit_amount"] == limit
    return None  # Transfer, BillPaid, Balance: decided by the rows of the same op


def resolve(op: Op, snap: Snapshot, result: CheckResult) -> bool:
    votes = {v for v in (vote(e, snap) for e in op.effects) if v is not None}
    if len(votes) > 1:
        result.add("half-done", f"{op.label()}: part of what it wrote is there, part is not "
                                f"({', '.join(f'{type(e).__name__} {vote(e, snap)}' for e in op.effects)})")
    committed = True in votes
    result.resolved["committed" if committed else "not committed"] += 1
    return committed


# -- comparing ----------------------------------------------------------------------------------


def check(world: World, ledgers: list, app_conninfo: str, admin_conninfo: str) -> CheckResult:
    result = CheckResult()
    with psycopg.connect(app_conninfo, autocommit=True) as conn:
        for user in world.ids():
            acting(conn, user)
            conn.execute("SELECT api.apply_category_rules()")
            conn.execute("COMMIT")
    snap = read_snapshot(app_conninfo, world, result)

    ref = Reference.start(world)
    marker_ops: dict[str, Op] = {}
    for ledger in ledgers:
        for op in ledger.ops:
            marker_ops[op.marker] = op
            if op.status == ACKED or (op.status == UNKNOWN and resolve(op, snap, result)):
                ref.apply(op, result)

    compare_transactions(world, ref, snap, marker_ops, result)
    compare_others(world, ref, snap, marker_ops, result)
    compare_views(world, ref, snap, result)
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        for subject, user, detail, expected, actual in conn.execute("SELECT * FROM bank.verify_totals()").fetchall():
            result.add("drift", f"bank.verify_totals(): {subject} of user {user}, {detail}: the raw rows say "
                                f"{expected}, the total is {actual}")
    uncategorized = Counter(r["user_id"] for r in snap.txns.values() if r["category"] is None)
    result.counts.update(transactions=len(snap.txns), rules=sum(len(r) for r in snap.rules.values()),
                         budgets=len(snap.budgets), reward_entries=len(snap.entries), batches=len(snap.batches),
                         most_rows_of_a_user=max(Counter(r["user_id"] for r in snap.txns.values()).values(), default=0),
                         most_uncategorized_rows_of_a_user=max(uncategorized.values(), default=0),
                         most_rules_of_a_user=max((len(r) for r in snap.rules.values()), default=0))
    return result


def who_wrote(description: str, marker_ops: dict) -> str:
    marker = description.split()[1][:11] if description.startswith("soak ") else ""
    op = marker_ops.get(marker)
    return op.label() if op else "no op of any ledger"


def compare_transactions(world: World, ref: Reference, snap: Snapshot, marker_ops: dict, result: CheckResult) -> None:
    for description in ref.txns.keys() - snap.txns.keys():
        t = ref.txns[description]
        result.add("lost", f"transaction {description!r} of user {t['user']} ({t['txn_date']}, {t['amount']} "
                           f"{t['currency']}), written by {ref.origin[description].label()}, is not there")
    for description in snap.txns.keys() - ref.txns.keys():
        row = snap.txns[description]
        result.add("unacknowledged", f"transaction {description!r} of user {row['user_id']} (id {row['id']}) is "
                                     f"there; its op: {who_wrote(description, marker_ops)}")
    batch_ids = {row["id"]: source for (_, source), row in snap.batches.items()}
    for description in ref.txns.keys() & snap.txns.keys():
        t, row = ref.txns[description], snap.txns[description]
        want = {
            "user_id": t["user"], "account_id": t["account"], "amount": t["amount"], "currency": t["currency"],
            "txn_type": t["txn_type"], "txn_date": t["txn_date"], "kind": t["kind"], "external_id": t["external_id"],
            "category": expected_category(description, t["category"]),
            "base_amount": to_base(t["amount"], t["currency"]),
            "batch": t["batch"],
        }
        have = {**row, "batch": batch_ids.get(row["import_batch_id"])}
        for column, value in want.items():
            if have[column] != value:
                result.add("drift", f"transaction {description!r} (id {row['id']}): {column} is {have[column]!r}, "
                                    f"its ledger says {value!r} ({ref.origin[description].label()})")
    # The bank ids held once per account are exactly those of the rows there.
    held = {(r["user_id"], r["account_id"], r["external_id"], r["id"]) for r in snap.txns.values() if r["external_id"]}
    for key in held - snap.ext_ids:
        result.add("drift", f"bank.transaction_external_ids lacks {key} (user, account, bank id, transaction)")
    for key in snap.ext_ids - held:
        result.add("drift", f"bank.transaction_external_ids holds {key}, which no transaction has")
    for op, transfer in ref.transfers:
        sides = [snap.txns.get(transfer.debit), snap.txns.get(transfer.credit)]
        if None in sides:
            continue  # reported as lost above
        ids = {s["transfer_id"] for s in sides}
        if len(ids) != 1 or None in ids or (transfer.transfer_id is not None and ids != {transfer.transfer_id}):
            result.add("drift", f"transfer {transfer.marker}: its sides carry transfer ids {sorted(map(str, ids))}, "
                                f"link_transfer returned {transfer.transfer_id} ({op.label()})")
    for key in ref.batches.keys() - snap.batches.keys():
        result.add("lost", f"import batch {key[1]} of user {key[0]} is not there")
    for key in snap.batches.keys() - ref.batches.keys():
        result.add("unacknowledged", f"import batch {key[1]} of user {key[0]} is there; its op: "
                                     f"{who_wrote('soak ' + key[1], marker_ops)}")
    for key in ref.batches.keys() & snap.batches.keys():
        batch, row = ref.batches[key], snap.batches[key]
        if (row["inserted_count"], row["duplicate_count"], row["rejected_count"]) != (batch.inserted, 0, batch.rejected):
            result.add("drift", f"import batch {key[1]}: counts {row['inserted_count']}, {row['duplicate_count']}, "
                                f"{row['rejected_count']}; expected {batch.inserted}, 0, {batch.rejected}")


def compare_others(world: World, ref: Reference, snap: Snapshot, marker_ops: dict, result: CheckResult) -> None:
    totals = ref.totals()
    for user in world.ids():
        base = {(rule_id, keyword) for rule_id, keyword in world.users[user].base_rules}
        have_base = {(r["id"], r["keyword_pattern"]) for r in snap.rules[user] if r["priority"] == 0}
        if base != have_base:
            result.add("drift", f"user {user}'s base rules changed: {sorted(base ^ have_base)}")
        have = {r["priority"]: (r["keyword_pattern"], r["is_active"]) for r in snap.rules[user] if r["priority"] != 0}
        want = ref.rules[user]
        for p in want.keys() - have.keys():
            result.add("lost", f"user {user}'s rule with priority {p} ({want[p]}) is not there")
        for p in have.keys() - want.keys():
            result.add("unacknowledged", f"user {user}'s rule with priority {p} ({have[p]}) is there")
        for p in want.keys() & have.keys():
            if want[p] != have[p]:
                result.add("drift", f"user {user}'s rule with priority {p} is {have[p]}, its ledger says {want[p]}")
        for r in snap.rules[user]:
            if r["category"] != KEYWORDS[r["keyword_pattern"]]:
                result.add("drift", f"user {user}'s rule {r['id']} gives {r['category']} for {r['keyword_pattern']}")
    for key in ref.budgets.keys() - snap.budgets.keys():
        result.add("lost", f"budget {key[1:]} of user {key[0]} (limit {ref.budgets[key]}) is not there")
    for key in snap.budgets.keys() - ref.budgets.keys():
        result.add("unacknowledged", f"budget {key[1:]} of user {key[0]} (limit {snap.budgets[key]['limit_amount']}) "
                                     "is there")
    for key in ref.budgets.keys() & snap.budgets.keys():
        row = snap.budgets[key]
        spent = totals.get((key[0], dt.date(key[1], key[2], 1), key[3]), [Decimal(0)])[0]
        if row["limit_amount"] != ref.budgets[key]:
            result.add("drift", f"budget {key[1:]} of user {key[0]}: limit {row['limit_amount']}, its ledger says "
                                f"{ref.budgets[key]}")
        if row["spent_amount"] != spent:
            result.add("drift", f"budget {key[1:]} of user {key[0]}: spent {row['spent_amount']}, the ledgers' rows "
                                f"say {spent}")
    for description in ref.entries.keys() - snap.entries.keys():
        result.add("lost", f"reward entry {description!r} ({ref.entries[description].entry_type} "
                           f"{ref.entries[description].points}) is not there")
    for description in snap.entries.keys() - ref.entries.keys():
        result.add("unacknowledged", f"reward entry {description!r} is there; its op: "
                                     f"{who_wrote(description, marker_ops)}")
    for description in ref.entries.keys() & snap.entries.keys():
        e, row = ref.entries[description], snap.entries[description]
        if (row["entry_type"], row["points"]) != (e.entry_type, e.points):
            result.add("drift", f"reward entry {description!r}: {row['entry_type']} {row['points']}, its ledger says "
                                f"{e.entry_type} {e.points}")
    for account, balance in ref.balances.items():
        have = snap.accounts.get(account, {}).get("balance")
        if have != balance:
            result.add("drift", f"account {account}: balance {have}, the ledgers' bill payments say {balance}")
    for user in world.ids():
        for biller in sorted({b for (u, b) in snap.bills if u == user}):
            bills = snap.bills[(user, biller)]
            paid = ref.bills_paid[(user, biller)]
            statuses = [(b["occurrence"], b["status"]) for b in bills]
            if statuses != [(n, "paid") for n in range(paid)] + [(paid, "upcoming")]:
                result.add("drift", f"user {user}'s {biller} bills are {summarize(statuses)}; the ledgers paid it "
                                    f"{paid} time(s): occurrences 0..{paid - 1} paid and {paid} upcoming expected")


def summarize(statuses: list) -> str:
    counts = Counter(status for _, status in statuses)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def compare_views(world: World, ref: Reference, snap: Snapshot, result: CheckResult) -> None:
    totals = ref.totals()
    for user in world.ids():
        mine = {k[1:]: v for k, v in totals.items() if k[0] == user}

        def differ(view: str, have: dict, want: dict) -> None:
            for key in sorted(have.keys() | want.keys(), key=str):
                if have.get(key) != want.get(key):
                    result.add("drift", f"api.{view} for user {user}, {key!r}: answers {have.get(key)}, the ledgers "
                                        f"give {want.get(key)}")

        differ("monthly_spending",
               {(r["month"], r["category"]): (r["spending"], r["income"], r["txn_count"])
                for r in snap.views[(user, "monthly_spending")]},
               {k: tuple(v) for k, v in mine.items()})
        budgets = {}
        for (u, year, month, category), limit in ref.budgets.items():
            if u == user:
                spent = mine.get((dt.date(year, month, 1), category), [Decimal(0)])[0]
                status = "exceeded" if spent > limit else "warning" if spent * 100 >= limit * 80 else "ok"
                budgets[(year, month, category)] = (limit, spent, limit - spent, status)
        differ("budget_status",
               {(r["year"], r["month"], r["category"]): (r["limit_amount"], r["spent_amount"], r["remaining"],
                                                         r["status"]) for r in snap.views[(user, "budget_status")]},
               budgets)
        differ("recent_transactions",
               {r["description"]: (r["id"], r["txn_date"], r["account_id"], r["category"], r["amount"], r["currency"],
                                   r["txn_type"], r["kind"], r["base_amount"])
                for r in snap.views[(user, "recent_transactions")]},
               {d: (snap.txns[d]["id"] if d in snap.txns else None, t["txn_date"], t["account"],
                    expected_category(d, t["category"]), t["amount"], t["currency"], t["txn_type"], t["kind"],
                    to_base(t["amount"], t["currency"]))
                for d, t in ref.txns.items() if t["user"] == user})
        newest = sorted((r for r in snap.txns.values() if r["user_id"] == user),
                        key=lambda r: (r["txn_date"], r["id"]), reverse=True)[:50]
        if [r["description"] for r in snap.views[(user, "recent_50")]] != [r["description"] for r in newest]:
            result.add("drift", f"api.recent_transactions for user {user}: the newest 50 are not the table's newest 50")
        accounts = {}
        for account in world.users[user].accounts.values():
            balance = ref.balances[account.id]
            in_base = balance if account.currency == "USD" else to_base(balance, account.currency)
            accounts[account.id] = (balance, account.currency, in_base)
        differ("account_summary",
               {r["id"]: (r["balance"], r["currency"], r["balance_in_base_currency"])
                for r in snap.views[(user, "account_summary")]}, accounts)
        entries = [e for e in ref.entries.values() if e.user == user]
        earned = sum(e.points for e in entries if e.entry_type == "earn")
        redeemed = sum(e.points for e in entries if e.entry_type == "redeem")
        differ("rewards_summary",
               {r["id"]: (r["points_balance"], r["points_earned"], r["points_redeemed"])
                for r in snap.views[(user, "rewards_summary")]},
               {world.users[user].reward_id: (earned - redeemed, earned, redeemed)})
        differ("upcoming_bills",
               {r["biller_name"]: (r["due_date"], r["amount_due"]) for r in snap.views[(user, "upcoming_bills")]},
               {b: (add_months(world.series_start, ref.bills_paid[(user, b)]), amount) for b, amount in BILLS.items()})
        flow: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for (month, _), (spending, income, _) in mine.items():
            flow[month][0] += income
            flow[month][1] += spending
        differ("cash_flow",
               {r["month"]: (r["income"], r["spending"], r["net"]) for r in snap.views[(user, "cash_flow")]
                if r["income"] or r["spending"]},
               {m: (i, s, i - s) for m, (i, s) in flow.items() if i or s})

