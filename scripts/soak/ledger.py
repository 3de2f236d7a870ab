"""What each client records: every write transaction it attempted (an Op) with the effects it would
have, and whether the server acknowledged it (its COMMIT returned), refused it (an error before
COMMIT: rolled back), or left it unknown (the connection broke while COMMIT was in flight); and the
counts and latencies of everything it did."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

ACKED, FAILED, UNKNOWN = "acked", "failed", "unknown"


# -- effects: what a committed op changed, replayed in client order to build the reference --------


@dataclass(frozen=True)
class NewTxn:
    """A transaction row; `description` is unique (it holds the op's marker) and names it."""
    user: int
    description: str
    account: int
    amount: Decimal
    currency: str
    txn_type: str
    txn_date: dt.date
    category: str | None  # as written: None leaves it to the rules
    external_id: str | None
    kind: str = "regular"
    transfer: str | None = None  # the marker of the transfer op that links it
    batch: str | None = None  # the import batch's source (its marker)


@dataclass(frozen=True)
class SetTxn:
    """An UPDATE of one column of a row the client wrote."""
    user: int
    description: str
    column: str  # txn_date or category
    before: object
    after: object


@dataclass(frozen=True)
class DelTxn:
    user: int
    description: str


@dataclass(frozen=True)
class NewBatch:
    user: int
    account: int
    source: str
    inserted: int
    rejected: int


@dataclass(frozen=True)
class Transfer:
    """Two rows linked by api.link_transfer (both written by the same op)."""
    user: int
    marker: str
    debit: str  # descriptions
    credit: str
    transfer_id: int | None  # what link_transfer returned (unknown when the COMMIT was in flight)


@dataclass(frozen=True)
class NewRule:
    user: int
    priority: int  # unique per op: it names the rule
    keyword: str
    active: bool


@dataclass(frozen=True)
class SetRule:
    user: int
    before: int  # priority
    after: int
    active: bool  # is_active after


@dataclass(frozen=True)
class DelRule:
    user: int
    priority: int


@dataclass(frozen=True)
class NewBudget:
    user: int
    year: int
    month: int
    category: str
    limit: Decimal  # unique per op: it names who made the budget


@dataclass(frozen=True)
class SetBudget:
    user: int
    year: int
    month: int
    category: str
    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class RewardEntry:
    user: int
    reward_id: int
    description: str
    entry_type: str
    points: int


@dataclass(frozen=True)
class BillPaid:
    user: int
    biller: str
    amount: Decimal


@dataclass(frozen=True)
class Balance:
    user: int
    account: int
    delta: Decimal


@dataclass
class Op:
    """One write transaction as the client attempted it (after any retries)."""
    client: int
    seq: int
    name: str
    user: int
    marker: str
    status: str = ""
    sqlstate: str | None = None  # the last error's, for a failed or unknown op
    message: str = ""  # the last error's message
    effects: list = field(default_factory=list)
    at: float = 0.0  # when it ended (monotonic)

    def label(self) -> str:
        return f"{self.name} {self.marker} (client {self.client}, user {self.user}, {self.status})"


# -- counts and latencies ------------------------------------------------------------------------


@dataclass
class Stats:
    """One client's counts; merged after the run. Errors are keyed by SQLSTATE ('lost' when the
    connection broke without one)."""
    ok: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)
    noop: Counter = field(default_factory=Counter)  # e.g. a bill someone else paid first
    retries: dict = field(default_factory=lambda: defaultdict(Counter))  # op -> sqlstate -> n
    errors: dict = field(default_factory=lambda: defaultdict(Counter))  # op -> sqlstate -> n
    latencies: dict = field(default_factory=lambda: defaultdict(list))  # op -> [ms], acknowledged only
    events: list = field(default_factory=list)  # (monotonic time, op, sqlstate) of every error
    write_acks: list = field(default_factory=list)  # (monotonic time, ms) of every acknowledged write
    problems: list = field(default_factory=list)  # what a client saw that must never happen
    known: Counter = field(default_factory=Counter)  # errors of known findings (client.KNOWN)

    def merge(self, other: Stats) -> None:
        for mine, theirs in ((self.ok, other.ok), (self.failed, other.failed), (self.unknown, other.unknown),
                             (self.noop, other.noop)):
            mine.update(theirs)
        for mine, theirs in ((self.retries, other.retries), (self.errors, other.errors)):
            for op, counts in theirs.items():
                mine[op].update(counts)
        for op, values in other.latencies.items():
            self.latencies[op].extend(values)
        self.events.extend(other.events)
        self.write_acks.extend(other.write_acks)
        self.problems.extend(other.problems)
        self.known.update(other.known)


class Ledger:
    """A client's ops, in the order it ran them."""

    def __init__(self, client: int) -> None:
        self.client = client
        self.ops: list[Op] = []
        self.lock = threading.Lock()

    def add(self, op: Op) -> None:
        with self.lock:
            self.ops.append(op)
