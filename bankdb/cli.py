"""The bankdb command line."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import jinja2
import psycopg
from psycopg.conninfo import conninfo_to_dict

from bankdb import backup, db, doctor, generate, importer, maintain, migrator, pitr, retention, seed
from bankdb.server import ServerError, pg_bin
from bankdb.settings import EMBEDDED_DATABASE, Project, Target, default_project_dir, resolve_target

WHERE = """\
which database:
  DATABASE_URL           e.g. postgresql://bank_migrator@db.example:5432/bankdb (any PostgreSQL 15+)
  PGHOST, PGDATABASE...  the libpq variables, when DATABASE_URL is not set
  (neither)              the embedded PostgreSQL under .bankdb/, started on first use, left running
  BANKDB_PROJECT_DIR     the SQL tree to use (default: this checkout)

exit status:
  0    done (status: up to date)
  1    failed, with the reason on stderr (status: pending work; doctor: a check failed)
  2    refused: drift or out-of-order migration files (status, migrate, rollback), or a usage error
  130  interrupted (Ctrl-C); an unfinished transaction is rolled back
  141  the output pipe closed before all output was written (e.g. `bankdb plan | head`)
"""

DRILL_EXIT = """\
The drill ignores DATABASE_URL and the PG* variables: its servers are its own.

exit status:
  0    drill passed
  1    drill failed, or could not run; the reason on stderr
  2    a usage error
  130  interrupted (Ctrl-C); the throwaway servers are stopped and their folder deleted
  141  the output pipe closed before all output was written (e.g. `bankdb plan | head`)
"""

BROKEN_PIPE = 141  # what a shell reports for a program killed by SIGPIPE: 128 + 13


class UsageError(Exception):
    """A setting or option bankdb cannot use; the message names it and its value."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _masked(text: str, url: str) -> str:
    """text, quoting url, with the URL's password hidden."""
    password = re.search(r"//[^/@:]*:([^@/]+)@", url)
    return text.replace(password[1], "***") if password else text


def _check_url(target: Target) -> None:
    """Refuse a DATABASE_URL libpq cannot read, naming it, before anything connects."""
    if target.description != "DATABASE_URL":
        return
    try:
        params = conninfo_to_dict(target.conninfo)
    except psycopg.ProgrammingError as exc:
        raise UsageError(_masked(
            f"DATABASE_URL {target.conninfo!r} is not a connection URL ({_one_line(exc)}); "
            "expected postgresql://USER@HOST:PORT/DATABASE", target.conninfo
        )) from None
    for port in (params.get("port") or "").split(","):
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise UsageError(_masked(f"DATABASE_URL {target.conninfo!r}: port {port} is not a TCP port (1-65535)",
                                     target.conninfo))


def _session(args: argparse.Namespace) -> db.Session:
    return db.Session(args.lock_wait, args.lock_timeout, args.statement_timeout)


def _prepare(project: Project) -> Target:
    """Resolve the target; for the embedded server, start it and create its database if needed."""
    target = resolve_target(project)
    _check_url(target)
    if target.embedded:
        server = project.embedded
        if server.start():
            print(f"Started the embedded PostgreSQL server ({server.home}).")
        if server.create_database(EMBEDDED_DATABASE):
            print(f"Created database {EMBEDDED_DATABASE}.")
    return target


def _connection_help(project: Project, target: Target) -> str:
    if not target.embedded:
        return f"Connected through {target.description}."
    server = project.embedded
    psql = shutil.which("psql") or pg_bin("psql")
    url = server.url(EMBEDDED_DATABASE)
    return f"Connect with:\n  {psql} '{url}'\n  URL: {url}\n  (or: bankdb psql)"


def cmd_up(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    session = _session(args)
    # One session and one reading of the tree for the whole command.
    with db.connect(target.conninfo, "bankdb", session) as conn:
        tree = migrator.read_tree(project)
        migrator.migrate_on(conn, tree, session.lock_wait)
        if target.embedded:
            project.embedded.add_statement_statistics(conn)
        print("Seeding lookups" + ("" if args.no_demo else " and demo data") + ":")
        seed.seed_on(conn, tree, demo=not args.no_demo, replace_demo=args.replace_demo)
    print(_connection_help(project, target))
    return 0


def cmd_migrate(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    migrator.migrate(project, target.conninfo, _session(args))
    return 0


def cmd_distribute(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    migrator.distribute(project, target.conninfo, _session(args))
    return 0


def cmd_status(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    state = migrator.status(project, target.conninfo)
    print(f"database: {target.description}")

    def section(title: str, lines: list[tuple[str, str]], newest: str = "") -> None:
        # Applied scripts are counted; the rest is always listed, applied ones too with --verbose.
        counts: dict[str, int] = {}
        for word, _ in lines:
            counts[word.strip().lower()] = counts.get(word.strip().lower(), 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in counts.items()) or "none"
        print(f"{title}: {summary}{newest}")
        for word, text in lines:
            if args.verbose or word != "applied":
                print(f"  {word:8} {text}")

    files = {s.id for s in state.versioned}
    pending = {s.id for s in state.pending}
    drift = {line.split(":", 1)[0]: line.split(": ", 1)[1] for line in state.drift + state.out_of_order}
    migrations = []
    for script_id in sorted(files | {a.id for a in state.history.values() if a.kind == "versioned"}):
        if script_id in drift:
            migrations.append(("DRIFT", f"{script_id}: {drift[script_id]}"))
        elif script_id in pending:
            migrations.append(("pending", script_id))
        else:
            migrations.append(("applied", f"{script_id}  {state.history[script_id].applied_at:%Y-%m-%d %H:%M:%S%z}"))
    applied = [s.id for s in state.versioned if s.id in state.history and s.id not in drift]
    newest = (f"; newest {applied[-1]}, applied {state.history[applied[-1]].applied_at:%Y-%m-%d %H:%M:%S%z}"
              if applied else "")
    section("migrations", migrations, newest)

    due = {s.id for s in state.repeatables_due}
    repeatables = []
    for script in state.repeatables:
        word = "pending" if script.id not in state.history else ("changed" if script.id in due else "applied")
        if word == "changed" and state.pending:
            word = "re-apply"
        repeatables.append((word, script.id))
    for script_id in state.repeatables_removed:
        repeatables.append(("removed", f"{script_id} (file gone; migrate forgets it, its objects stay)"))
    section("repeatable scripts", repeatables)

    verdict = {
        0: "up to date",
        1: "pending work: run `bankdb migrate` (`bankdb plan` shows the SQL)",
        2: "DRIFT: `bankdb migrate` refuses to run until it is resolved (restore the file, or `bankdb resolve ID`)",
    }[state.exit_code]
    print(f"state: {verdict}")
    return state.exit_code


def _write_lines(text: str) -> None:
    # Line by line: a pipe whose reader has gone (`| head`) then fails at once with
    # BrokenPipeError; one large write can be cut short without any error.
    for line in text.splitlines(keepends=True):
        sys.stdout.write(line)


def cmd_plan(project: Project, args: argparse.Namespace) -> int:
    if args.render:  # the files only: no database, so a linter can run anywhere
        for citus, out in ((False, Path(args.render)), (True, Path(args.render) / "citus")):
            for script in migrator.read_repeatables(project.repeatable_dirs, citus):
                if script.path.name.endswith(".j2"):
                    path = out / script.id.removesuffix(".j2")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(script.text, encoding="utf-8")
                    print(f"wrote {path}")
        return 0
    target = _prepare(project)
    state, units = migrator.plan(project, target.conninfo)
    if state.blocked:
        print("-- migrate would refuse to run:")
        for problem in state.drift + state.out_of_order:
            print(f"--   {problem}")
        return 2
    _write_lines(migrator.render_plan(units))
    return 0


def cmd_rollback(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    steps = None if (args.to or args.all) else args.steps
    if args.all:
        steps = 10**9
    migrator.rollback(project, target.conninfo, steps=steps, to=args.to, session=_session(args),
                      out=lambda text: _write_lines(text + "\n"), dry_run=args.dry_run)
    return 0


def cmd_seed(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    if args.users and not args.demo:
        print("bankdb: --users generates demo data: give --demo too", file=sys.stderr)
        return 1
    if args.users and args.replace_demo:
        print("bankdb: --replace-demo reloads the small demo set, --users generates users instead: give one",
              file=sys.stderr)
        return 1
    seed.seed(project, target.conninfo, demo=args.demo and not args.users, replace_demo=args.replace_demo)
    if args.users:
        generate.generate(target.conninfo, args.users, args.seed, args.heavy_users, project=project)
    return 0


def cmd_resolve(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    migrator.resolve(project, target.conninfo, args.id, _session(args))
    return 0


def _key(args: argparse.Namespace) -> bytes | None:
    path = args.key_file or os.environ.get("BANKDB_BACKUP_KEY_FILE")
    return backup.load_key(Path(path)) if path else None


def cmd_backup(project: Project, args: argparse.Namespace) -> int:
    if args.new_key:
        print(backup.new_key())
        return 0
    target = _prepare(project)
    backup.backup(target.conninfo, Path(args.dir), _key(args), args.keep)
    return 0


def cmd_restore(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    differences = backup.restore(
        target.conninfo, Path(args.backup), args.database, _key(args), args.jobs, args.force, args.with_roles
    )
    if differences:
        print("The restored database differs from the backup's manifest:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"Restored into {args.database}: row counts, checksums and migration history match the manifest.")
    return 0


def cmd_maintain(project: Project, args: argparse.Namespace) -> int:
    # Bad options are refused before any of the work is done.
    if args.keep_months is not None and not args.archive_dir:
        print("bankdb: --keep-months needs --archive-dir: partitions are dropped only once archived", file=sys.stderr)
        return 1
    if args.keep_months is not None and args.keep_months < 1:
        print(f"bankdb: --keep-months must keep at least one month, not {args.keep_months}", file=sys.stderr)
        return 1
    target = _prepare(project)
    if args.schedule:
        maintain.schedule(target.conninfo, args.schedule, args.months_ahead, args.bill_due_days)
        print(f"Scheduled with pg_cron as job {maintain.CRON_JOB}: {args.schedule}")
        return 0
    for task, result in maintain.run(target.conninfo, args.months_ahead, args.bill_due_days):
        print(f"  {task}: {result}")
    if args.keep_months is not None:
        retention.archive_partitions(target.conninfo, args.keep_months, Path(args.archive_dir))
    return 0


def cmd_doctor(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    limits = doctor.Limits(args.months_ahead, args.unused_index_min_bytes, args.bloat_percent)
    report = doctor.examine(target.conninfo, limits)
    for check, problems in report.items():
        print(f"{'ok  ' if not problems else 'FAIL'} {check}")
        for problem in problems:
            print(f"       {problem}")
    failed = sum(1 for problems in report.values() if problems)
    print(f"{failed} check(s) failed" if failed else "healthy")
    return 1 if failed else 0


def cmd_docs(project: Project, args: argparse.Namespace) -> int:
    from bankdb import reference  # here, so that this command is one hunk of its own

    target = _prepare(project)
    out = Path(args.out) if args.out else project.root / "docs" / "reference"
    cat = reference.catalog(target.conninfo)
    files = reference.render(cat)
    problems = reference.grouping_problems(cat)
    for problem in problems:
        print(f"bankdb: {problem}", file=sys.stderr)
    if args.check:
        differ = reference.differences(files, out)
        for line in differ:
            print(line)
        if differ:
            print("bankdb: the reference differs from the catalog: run `bankdb docs` to regenerate it", file=sys.stderr)
        return 1 if differ or problems else 0
    written = reference.write(files, out)
    for path in written:
        print(f"wrote {path}")
    print(f"{out}: {len(files)} files, {len(written)} changed")
    return 1 if problems else 0


def cmd_import(project: Project, args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = path.read_bytes()
    kind = importer.detect_format(path, args.format)
    sha256 = importer.file_sha256(data)
    if kind == "ofx":
        rows = importer.read_ofx(data)
        mapping = {"txn_date": "DTPOSTED (the bank's date)", "amount": "TRNAMT", "description": "NAME / MEMO",
                   "merchant": "NAME", "external_id": "FITID", "currency": "CURDEF"}
    else:
        csv_mapping = importer.CsvMapping(
            date=args.date, date_format=args.date_format, amount=args.amount, debit=args.debit, credit=args.credit,
            description=args.description or ["Description"], merchant=args.merchant, posted_date=args.posted_date,
            external_id=args.id, currency=args.currency, category=args.category, delimiter=args.delimiter,
            decimal_comma=args.decimal_comma, encoding=args.encoding,
        )
        rows = importer.read_csv(data, csv_mapping)
        mapping = csv_mapping.columns()
    print(f"{path.name}: {kind.upper()}, {len(rows):,} row(s), sha256 {sha256}")
    if args.dry_run:
        print("Mapping (field <- file):")
        for name, source in mapping.items():
            print(f"  {name:12} <- {source}")
        print(f"The first {min(len(rows), args.show)} row(s) as they would be imported:")
        for row in rows[:args.show]:
            print("  " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None))
    target = _prepare(project)
    source = args.source or f"{kind}:{path.name}"
    try:
        outcome = importer.run(target.conninfo, rows, args.user, args.account, source, sha256, args.partial,
                               args.dry_run)
    except psycopg.errors.UniqueViolation as exc:  # the file was imported before: say when, and what to do
        return _fail(" ".join(filter(None, (_database_error(exc), exc.diag.message_detail, exc.diag.message_hint))))
    for rejection in outcome.rejections:
        print(f"  rejected {rejection['message']}")
    if outcome.refused:
        print(f"Refused (all or none): {outcome.rejected} row(s) rejected, nothing imported. Correct the file, or "
              "give --partial to import the valid rows.")
        return 1
    verb = "Would import (dry run, nothing written)" if args.dry_run else f"Imported as batch {outcome.batch_id}"
    print(f"{verb} into account {args.account} of user {args.user}: {outcome.inserted} inserted, "
          f"{outcome.duplicates} duplicate(s), {outcome.rejected} rejected.")
    return 1 if outcome.rejected else 0


def cmd_drill_pitr(project: Project, args: argparse.Namespace) -> int:
    result = pitr.run(project, args.major)
    print(result.report())
    return 0 if result.passed else 1


def cmd_server(project: Project, args: argparse.Namespace) -> int:
    server = project.embedded
    if args.action == "start":
        print("started" if server.start() else "already running", f"({server.home})")
        print(_connection_help(project, Target(server.conninfo(EMBEDDED_DATABASE), True, "")))
        return 0
    if args.action == "stop":
        print("stopped" if server.stop() else "not running", f"({server.home})")
        return 0
    pid = server.pid()
    if pid is None:
        print(f"not running ({server.home})")
        return 1
    print(f"running, pid {pid}, socket in {server.socket_dir}")
    return 0


def cmd_psql(project: Project, args: argparse.Namespace) -> int:
    target = _prepare(project)
    psql = shutil.which("psql") or pg_bin("psql")
    conn = target.conninfo or ""
    sys.stdout.flush()  # what _prepare printed, before psql replaces this process
    os.execv(psql, [psql, *([conn] if conn else []), *args.psql_args])
    return 0  # not reached


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number, 1 or more (a count of 0 would make the command do nothing)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, not {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


REPLACE_DEMO_HELP = (
    "delete the demo users (e-mail @demo.bankdb.test) and everything they own (accounts, transactions, rules, "
    "budgets, bills, rewards, alerts: whatever anyone added to them too), then load the demo set again with new "
    "ids; prints how many rows of each table it deleted"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankdb",
        description="Apply, inspect and roll back the bankdb schema; run the embedded PostgreSQL server.",
        epilog=WHERE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=help_text, description=description or help_text, epilog=WHERE,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    def add_session_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lock-wait", type=float, default=60.0, metavar="SECONDS",
                       help="how long to wait for another run's migration lock (default 60)")
        p.add_argument("--lock-timeout", default="10s", metavar="TIME",
                       help="lock_timeout of the migration session: a statement waiting longer for a table "
                            "lock fails instead of queueing the application behind it (default 10s)")
        p.add_argument("--statement-timeout", default="15min", metavar="TIME",
                       help="statement_timeout of the migration session (default 15min)")

    p = add("up", cmd_up, "start the embedded server if needed, migrate, seed lookups and demo data",
            "Bring up a ready database: the embedded server (unless DATABASE_URL or PG* is set), every migration "
            "and repeatable script, the lookups (currencies, categories) and a small demo data set. Running it "
            "again keeps the data: the demo users are loaded only when none is there. Prints how to connect.")
    demo = p.add_mutually_exclusive_group()
    demo.add_argument("--no-demo", action="store_true", help="load only the lookups, no demo users")
    demo.add_argument("--replace-demo", action="store_true", help=REPLACE_DEMO_HELP)
    add_session_options(p)

    p = add("migrate", cmd_migrate, "apply pending migrations, then the changed functions/, views/ and security/",
            "Apply pending migrations in order, then the repeatable scripts that changed, in this order: functions/ "
            "(stored functions and their triggers), views/ (the api and monitor views) and security/ (grants and "
            "row-level security policies); all of them after any migration. Everything runs in one transaction "
            "with its bookkeeping, so a failure leaves nothing half-applied. Refuses to run on drift (exit 2). "
            "`bankdb plan` prints the SQL first.")
    add_session_options(p)

    p = add("distribute", cmd_distribute, "on a Citus coordinator: distribute the tables by user_id (idempotent)",
            "Migrate, then distribute a database on a Citus coordinator, empty or holding data, as "
            "scripts/citus/distribute.sql says: lookups, users and the audit trail as reference tables, every "
            "user-owned table by user_id, co-located. Then every repeatable script is applied again, rendered for "
            "Citus, and bank.verify_totals() must be empty. A database already distributed goes through "
            "unchanged. See docs/scale-out.md.")
    add_session_options(p)

    p = add("status", cmd_status, "summarise the database's state; exit 0 up to date, 1 pending work, 2 drift",
            "Compare the migration files and repeatable scripts with the database's history: counts, the newest "
            "applied migration, every script that is pending, changed or drifted, and a verdict. Exit 0 up to "
            "date, 1 pending work, 2 drift. --verbose lists every script, applied ones too.")
    p.add_argument("-v", "--verbose", action="store_true", help="list every script, with when each was applied")
    p = add("plan", cmd_plan, "print the SQL `bankdb migrate` would run, changing nothing")
    p.add_argument("--render", metavar="DIR",
                   help="instead, write what each .sql.j2 template renders to (what migrate applies) under DIR, "
                        "e.g. DIR/security/privileges.sql, and for a Citus coordinator under DIR/citus, for a linter; "
                        "connects to no database")

    p = add("rollback", cmd_rollback, "roll back the newest migration(s) with their rollback files",
            "Roll back applied migrations, newest first, with their .rollback.sql files, in one transaction. "
            "The views of the schemas views/ manages are dropped first; the next migrate re-applies every "
            "repeatable script.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--steps", type=_at_least_one, default=1, metavar="N",
                       help="how many migrations, 1 or more (default 1)")
    which.add_argument("--to", metavar="ID", help="roll back everything applied after migration ID")
    which.add_argument("--all", action="store_true", help="roll back every applied migration")
    p.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
    add_session_options(p)

    p = add("seed", cmd_seed, "load the lookups (currencies, categories); --demo adds demo users",
            "Load the lookup data (ISO 4217 currencies, the categories) as idempotent upserts. With --demo, also "
            "the demo users (@demo.bankdb.test) with their accounts, transactions, budgets and bills, when none "
            "of them is there; demo users already there are kept with everything added to them.")
    p.add_argument("--demo", action="store_true", help="also load the small demo data set, unless it is there")
    p.add_argument("--replace-demo", action="store_true", help=REPLACE_DEMO_HELP)
    p.add_argument("--users", type=_at_least_one, metavar="N",
                   help="with --demo: generate N realistic users instead (about 100 transactions each, 24 months); "
                        "for a database nobody else writes to meanwhile")
    p.add_argument("--seed", type=int, default=1, help="the generator's seed: the same seed gives the same data")
    p.add_argument("--heavy-users", type=int, default=0, metavar="K",
                   help="the first K generated users get about 50,000 transactions each")

    p = add("resolve", cmd_resolve, "accept a drifted migration after review",
            "Resolve drift on one migration: record the checksum of its file as it is now, or forget it when its "
            "file is gone. Use only when the database already matches the files.")
    p.add_argument("id", help="the migration id, e.g. V002_budgets_and_rules")
    add_session_options(p)

    p = add("backup", cmd_backup, "take a verified backup: pg_dump archive, roles, manifest; keep the last N",
            "Write a backup folder under --dir: the pg_dump archive (custom format), the roles (no passwords) and a "
            "manifest with per-table row counts and checksums, the migration history and the server version. With "
            "a key (--key-file, or BANKDB_BACKUP_KEY_FILE) the files are encrypted with AES-256-GCM. Older backups "
            "beyond --keep are deleted only after the new one is complete.")
    p.add_argument("--dir", default=".bankdb/backups", help="where backups go (default .bankdb/backups)")
    p.add_argument("--keep", type=int, default=7, metavar="N", help="backups to keep, newest first (default 7)")
    p.add_argument("--key-file", metavar="FILE", help="a file holding the base64 key; keep it outside the repository")
    p.add_argument("--new-key", action="store_true", help="print a new random key and exit")

    p = add("restore", cmd_restore, "restore a backup into a new database and prove it against the manifest",
            "Check the backup's files against their checksums, decrypt them, restore into --database with parallel "
            "jobs, then compare row counts, checksums and migration history with the manifest: exit 1 on any "
            "difference. A non-empty database is only replaced with --force.")
    p.add_argument("backup", help="the backup folder (bankdb-<database>-<time>)")
    p.add_argument("--database", required=True, help="the database to restore into (created if missing)")
    p.add_argument("--jobs", type=_at_least_one, default=2, help="parallel pg_restore jobs (default 2)")
    p.add_argument("--key-file", metavar="FILE", help="the key the backup was encrypted with")
    p.add_argument("--force", action="store_true", help="drop and replace a non-empty --database")
    p.add_argument("--with-roles", action="store_true", help="first create the roles the cluster lacks")

    p = add("maintain", cmd_maintain, "periodic work: partitions ahead, overdue bills, bill-due alerts, ANALYZE",
            "Run bank.run_maintenance(): create the monthly partitions of the months ahead, mark unpaid bills past "
            "due overdue, raise bill-due alerts, propose the recurring payments of the users who paid since "
            "yesterday, ANALYZE tables whose statistics are stale. Run it from cron (hourly "
            "is plenty), or give --schedule to have pg_cron run it when pg_cron is installed.")
    p.add_argument("--months-ahead", type=int,
                   help="partitions to keep ahead of this month (default: bank.partition_months_ahead())")
    p.add_argument("--bill-due-days", type=int, default=3, help="alert bills due within this many days (default 3)")
    p.add_argument("--schedule", metavar="CRON", help="register with pg_cron instead, e.g. '7 * * * *'")
    p.add_argument("--keep-months", type=int, metavar="N",
                   help="archive (to --archive-dir), verify, then drop the partitions before the last N months")
    p.add_argument("--archive-dir", metavar="DIR", help="where --keep-months writes the archived partitions")

    p = add("doctor", cmd_doctor, "check the database's health; exit 1 when something is wrong",
            "Report orphaned rows, constraints not validated, drift between derived totals and raw rows, months "
            "without a partition ahead, a default partition, unused indexes and bloat. Exit 1 when any check fails.")
    limits = doctor.Limits()
    p.add_argument("--months-ahead", type=int, default=limits.months_ahead,
                   help=f"months that must have a partition (default {limits.months_ahead})")
    p.add_argument("--unused-index-min-bytes", type=int, default=limits.unused_index_min_bytes,
                   help=f"report unused indexes this large or larger (default {limits.unused_index_min_bytes >> 20} MiB)")
    p.add_argument("--bloat-percent", type=float, default=limits.bloat_percent,
                   help=f"dead rows share that counts as bloat (default {limits.bloat_percent:g})")

    p = add("docs", cmd_docs, "write the schema reference (docs/reference/) from the database's catalog",
            "Write docs/reference/ from the catalog of the target database: per schema every table (columns, "
            "constraints, indexes, triggers, policies, grants, comments), view and function, and an ER diagram of "
            "schema bank (Mermaid in README.md, and er-bank.svg), its tables grouped as the seed document groups "
            "them. Run it on a database migrated to the newest migration. Exit 1 when a bank table is in no group.")
    p.add_argument("--out", metavar="DIR", help="where to write (default: docs/reference of the project)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and name the files that differ from what the catalog says")

    p = add("import", cmd_import, "import a bank statement file (CSV or OFX) into one account of a user",
            "Import FILE into account --account of user --user as one import batch (api.import_staged, acting as "
            "bank_app, so the login must be a member of bank_app): every row checked, categorized and converted "
            "as a direct insert is; rows already in the account (same bank id, or same date, amount, direction "
            "and description as often) are counted as duplicates; the same file twice is refused. By default a "
            "rejected row refuses the whole file (all or none); --partial imports the valid rows. Prints the "
            "batch's counts and each rejected row with its line and rule; exit 1 when a row was rejected. OFX "
            "(1.x SGML, 2.x XML) is read with ofxtools; a CSV's columns are mapped by the options below.")
    p.add_argument("file", metavar="FILE", help="the statement: .ofx/.qfx is read as OFX, anything else as CSV")
    p.add_argument("--user", type=int, required=True, metavar="ID", help="the user the account belongs to")
    p.add_argument("--account", type=int, required=True, metavar="ID", help="the account to import into")
    p.add_argument("--format", choices=["csv", "ofx"], help="the file's format (default: from its extension)")
    p.add_argument("--partial", action="store_true",
                   help="import the valid rows and report the rejected ones (default: all or none)")
    p.add_argument("--dry-run", action="store_true",
                   help="show the mapping and the first rows, and what the import would do; write nothing")
    p.add_argument("--show", type=int, default=5, metavar="N", help="rows the dry run shows (default 5)")
    p.add_argument("--source", help="the batch's source (default FORMAT:FILE_NAME)")
    csv_options = p.add_argument_group("CSV columns (names as in the header row)")
    csv_options.add_argument("--date", default="Date", metavar="COLUMN", help="the booking date (default Date)")
    csv_options.add_argument("--date-format", default="%Y-%m-%d", metavar="FORMAT",
                             help="strptime format of the dates, e.g. %%d.%%m.%%Y or %%m/%%d/%%Y (default %%Y-%%m-%%d)")
    csv_options.add_argument("--amount", default="Amount", metavar="COLUMN",
                             help="a signed amount, negative for money out (default Amount)")
    csv_options.add_argument("--debit", metavar="COLUMN", help="money out, instead of --amount (with --credit)")
    csv_options.add_argument("--credit", metavar="COLUMN", help="money in, instead of --amount (with --debit)")
    csv_options.add_argument("--description", action="append", metavar="COLUMN",
                             help="the description; repeat to join several columns (default Description)")
    csv_options.add_argument("--merchant", metavar="COLUMN", help="the merchant or payee")
    csv_options.add_argument("--posted-date", metavar="COLUMN", help="the date the bank posted it")
    csv_options.add_argument("--id", metavar="COLUMN", help="the bank's transaction id (de-duplicates re-imports)")
    csv_options.add_argument("--currency", metavar="COLUMN", help="the currency (default: the account's)")
    csv_options.add_argument("--category", metavar="COLUMN", help="a category (else the user's rules decide)")
    csv_options.add_argument("--delimiter", default=",", metavar="CHAR", help="the field separator (default ,)")
    csv_options.add_argument("--decimal-comma", action="store_true",
                             help="amounts are written 1.234,56 (a comma for decimals)")
    csv_options.add_argument("--encoding", default="utf-8-sig", help="the file's encoding (default utf-8-sig)")

    p = add("drill", None, "rehearse a recovery on throwaway servers and measure it: `bankdb drill pitr`",
            "Rehearse a recovery on throwaway servers of its own, and measure it. The drill never touches the "
            "target database.")
    p.epilog = DRILL_EXIT
    drills = p.add_subparsers(dest="drill", required=True, metavar="DRILL")
    p = drills.add_parser(
        "pitr", help="point-in-time recovery: WAL archive, base backup, failure, recovery to a time",
        description=pitr.__doc__.split("\n\n", 1)[1].replace("\n", " ").strip() + " The primary is migrated and "
        "seeded with the demo data; the servers listen on 127.0.0.1 only and trust its logins; they live in a "
        "folder under .bankdb/ that is deleted afterwards. Exit 1 unless exactly the transactions committed "
        "before the target time are there.",
        epilog=DRILL_EXIT, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_drill_pitr)
    p.add_argument("--major", type=int, default=18, metavar="VERSION",
                   help="the PostgreSQL major version to drill: the embedded wheel's (18, the default) or the "
                        "machine's, e.g. 15 (/usr/lib/postgresql/15/bin)")

    p = add("server", cmd_server, "start, stop or inspect the embedded PostgreSQL server (.bankdb/)")
    p.add_argument("action", choices=["start", "stop", "status"])

    p = add("psql", cmd_psql, "run psql on the target database, with any psql arguments",
            "Run psql connected to the target database. Every argument after `psql` goes to psql as it is, e.g. "
            "`bankdb psql -c 'SELECT 1' -At`; one leading `--` is dropped, so `bankdb psql -- --help` shows psql's "
            "own help (`-h` or `--help` alone is this help; `-h HOST` goes to psql). psql's exit status is bankdb's.")
    p.add_argument("psql_args", nargs="*", metavar="PSQL_ARGUMENT", help="passed to psql unchanged")
    return parser


def _database_error(exc: psycopg.Error) -> str:
    if exc.sqlstate is None or exc.sqlstate.startswith("08"):  # no session, or it was lost
        return f"cannot reach the database: {_one_line(exc)}"
    message = f"{_one_line(exc.diag.message_primary or exc)} (SQLSTATE {exc.sqlstate})"
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        message += ("; this login lacks a privilege the command needs: run it as the DBA login that migrates "
                    "(a member of bank_migrator)")
    return message


def _fail(message: str, code: int = 1) -> int:
    print(f"bankdb: {message}", file=sys.stderr)
    return code


def split_psql_arguments(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`bankdb psql ARGS...`: everything after `psql` is psql's (argparse would take `-c` for its own).

    One leading `--` is dropped; `bankdb psql --help` alone is bankdb's help."""
    if argv[:1] != ["psql"] or argv[1:] in (["-h"], ["--help"]):
        return argv, None
    rest = argv[1:]
    return ["psql"], rest[1:] if rest[:1] == ["--"] else rest


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure ends in one `bankdb: ...` message and an exit code, not a traceback."""
    try:
        argv, psql_args = split_psql_arguments(sys.argv[1:] if argv is None else list(argv))
        args = build_parser().parse_args(argv)
        if psql_args is not None:
            args.psql_args = psql_args
        code = args.func(Project(default_project_dir()), args)
        sys.stdout.flush()  # a closed pipe shows here, while it can still be reported
        return code
    except BrokenPipeError:
        # The Python docs' recipe: the reader has gone, so send what is left to devnull, or
        # the flush at exit fails again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _fail("the output pipe closed before all output was written (broken pipe)", BROKEN_PIPE)
    except KeyboardInterrupt:
        return _fail("interrupted; an unfinished transaction was rolled back", 130)
    except migrator.DriftError as exc:
        return _fail(str(exc), 2)
    except (UsageError, migrator.ProjectError, db.ScriptError, db.LockTimeout, seed.NotMigrated,
            ServerError, backup.BackupError, retention.RetentionError, maintain.MaintainError,
            importer.ImportFileError) as exc:
        return _fail(str(exc))
    except psycopg.Error as exc:
        return _fail(_database_error(exc))
    except jinja2.TemplateError as exc:
        where = f"{exc.filename}, line {exc.lineno}: " if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        return _fail(f"a .sql.j2 template does not render: {where}{_one_line(exc.message or exc)}")
    except OSError as exc:  # a file or program a command needs: missing, unreadable, not writable
        return _fail(_one_line(exc))
