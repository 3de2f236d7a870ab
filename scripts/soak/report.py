"""The run's figures: per operation throughput, p50/p99 latency, retries and errors by SQLSTATE;
the faults' results; the checker's verdict. As a table on stdout, as JSON, and as Markdown."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .client import MIX
from .ledger import Stats


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def summarize(stats: Stats, seconds: float) -> dict:
    ops = {}
    for name in MIX:
        latencies = stats.latencies.get(name, [])
        ops[name] = {
            "acknowledged": stats.ok[name],
            "per_second": round(stats.ok[name] / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "retried": dict(sorted(stats.retries.get(name, Counter()).items())),
            "failed": stats.failed[name],
            "unknown": stats.unknown[name],
            "nothing_to_do": stats.noop[name],
            "errors": dict(sorted(stats.errors.get(name, Counter()).items())),
        }
    errors: Counter = Counter()
    retries: Counter = Counter()
    for counts in stats.errors.values():
        errors.update(counts)
    for counts in stats.retries.values():
        retries.update(counts)
    total = sum(stats.ok.values())
    writes = sum(n for name, n in stats.ok.items() if name != "read")
    return {
        "seconds": round(seconds, 1),
        "transactions": total,
        "per_second": round(total / seconds, 1),
        "writes_per_second": round(writes / seconds, 1),
        "ops": ops,
        "retries_by_sqlstate": dict(sorted(retries.items())),
        "errors_by_sqlstate": dict(sorted(errors.items())),
        "known_findings": dict(sorted(stats.known.items())),
    }


def over_time(progress: list[tuple[int, int]], parts: int = 5) -> list[dict]:
    """Transactions per second in `parts` equal stretches of the run (from the 10 s progress)."""
    if not progress:
        return []
    points = [(0, 0), *progress]
    end = points[-1][0]
    out = []
    for i in range(parts):
        lo, hi = end * i / parts, end * (i + 1) / parts
        first = min(points, key=lambda p: abs(p[0] - lo))
        last = min(points, key=lambda p: abs(p[0] - hi))
        if last[0] > first[0]:
            out.append({"from_s": first[0], "to_s": last[0], "per_second": round((last[1] - first[1]) / (last[0] - first[0]), 1)})
    return out


def fmt(value, suffix: str = "") -> str:
    return "-" if value is None else f"{value:g}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def counts(mapping: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items()) or "-"


def table(summary: dict) -> str:
    lines = [f"{'operation':10} {'share':>5} {'acked':>8} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}  "
             f"{'retried (SQLSTATE)':22} {'failed (SQLSTATE)':30} unknown"]
    for name, op in summary["ops"].items():
        failed = {k: v for k, v in op["errors"].items()}
        lines.append(f"{name:10} {MIX[name]:>4}% {op['acknowledged']:>8} {op['per_second']:>7} {fmt(op['p50_ms']):>8} "
                     f"{fmt(op['p99_ms']):>8}  {counts(op['retried']):22} {counts(failed):30} {op['unknown']}")
    lines.append(f"{'all':10} {'':>5} {summary['transactions']:>8} {summary['per_second']:>7}  "
                 f"(writes {summary['writes_per_second']}/s)")
    return "\n".join(lines)


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def markdown(doc: dict) -> str:
    s = doc["summary"]
    out = [
        "# Soak test: many clients through PgBouncer, under faults",
        "",
        "Written by `scripts/soak.py` (what it does and checks: [operations](../operations.md#soak-test)); "
        "the numbers below are this run's and are not copied elsewhere.",
        "",
        f"Command: `{doc['command']}`",
        "",
        f"Run {doc['started']}: {doc['machine']}. PostgreSQL {doc['server_version']} "
        f"({'its own embedded server' if doc['own_server'] else 'a given server'}, durable commits), "
        f"{doc['pgbouncer']} in transaction mode with {doc['pool_size']} server connections, "
        f"{doc['clients']} client threads (psycopg, `prepare_threshold=None`) as one `bank_app` login acting for "
        f"{doc['users']} users, {doc['hot']} of them hot (half of all transactions are for one of them). "
        "The machine is shared with other work and noisy: figures move between runs.",
        "",
        f"**Verdict: {'passed' if doc['passed'] else 'FAILED'}**: {doc['reason']}.",
        "",
        f"{s['transactions']:,} transactions in {s['seconds']:g} s: {s['per_second']:g} per second, of which "
        f"{s['writes_per_second']:g} writes. Unknown outcomes (the connection lost while COMMIT was in flight), "
        f"resolved by the checker from their markers: {counts(doc['check']['resolved'])}.",
        "",
        "Throughput over the run (the hot users' rows and rules pile up; the machine's other load varies): "
        + ", ".join(f"{p['from_s']}-{p['to_s']} s: {p['per_second']:g}/s" for p in s.get("per_second_over_time", []))
        + ".",
        "",
        "## Per operation",
        "",
        "Latency is from the first BEGIN to the COMMIT's answer, retries included, for acknowledged transactions.",
        "",
        "| operation | share | acknowledged | per second | p50 ms | p99 ms | retried (SQLSTATE) | failed (SQLSTATE) "
        "| unknown | nothing to do |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for name, op in s["ops"].items():
        out.append(f"| {name} | {MIX[name]}% | {op['acknowledged']:,} | {op['per_second']:g} | {fmt(op['p50_ms'])} "
                   f"| {fmt(op['p99_ms'])} | {counts(op['retried'])} | {counts(op['errors'])} | {op['unknown']} "
                   f"| {op['nothing_to_do']} |")
    out += [
        "",
        f"Retries by SQLSTATE: {counts(s['retries_by_sqlstate'])}. Errors by SQLSTATE (after retries; `lost`: "
        f"the connection broke with no SQLSTATE): {counts(s['errors_by_sqlstate'])}.",
        "",
        "## Faults",
        "",
        "Each in the middle of the workload; the window is from the fault's start to 2 s after it was over.",
        "",
        "| at s | fault | result | errors in the window | unknown | slowest write ms | writes again after s |",
        "|---:|---|---|---|---:|---:|---:|",
    ]
    for f in doc["faults"]:
        d = f["details"]
        phases = "".join(f"; {k.replace(': slowest write ms', '')}: slowest write {v} ms" for k, v in d.items()
                         if k.endswith("slowest write ms"))
        out.append(f"| {f['at']:g} | {f['name']} | {'ok' if f['ok'] else 'FAILED'}: {f['summary']}{phases} "
                   f"| {counts(d.get('window_errors', {}))} | {d.get('window_unknown', '-')} "
                   f"| {fmt(d.get('window_max_write_ms'))} | {fmt(d.get('writes_again_after_seconds'))} |")
    c = doc["check"]
    out += [
        "",
        "## The checks after the run",
        "",
        f"Compared with the reference built from the {doc['clients'] + 2} ledgers: {counts(c['counts'])}. "
        f"Problems: {len(c['problems'])}.",
    ]
    out += [f"- {p}" for p in c["problems"][:50]]
    known = s.get("known_findings") or {}
    out += ["", f"Errors of the known findings below in this run: {counts(known)}.", ""]
    # The findings are written by hand (scripts/soak/findings.md), the figures above by the run.
    out.append((Path(__file__).resolve().parent / "findings.md").read_text().rstrip())
    return "\n".join(out) + "\n"
