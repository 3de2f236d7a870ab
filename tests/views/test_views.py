"""Each api view equals a reference query written against the raw tables, for everyone and for one user."""

from __future__ import annotations

import psycopg
import pytest

from ..security.conftest import acting

# What the totals count, from the raw rows: an unsplit regular transaction by its own category, a split
# one by its lines, each line's share of base_amount computed here (rounded half away from zero; the
# remainder to the largest line, lowest line_no on ties), once per category of its lines.
COUNTED = """(
    SELECT t.user_id, t.txn_date, coalesce(t.category, 'Other') AS category, t.txn_type, t.base_amount
    FROM bank.transactions AS t
    WHERE t.kind = 'regular' AND NOT EXISTS (SELECT FROM bank.transaction_splits AS l WHERE l.transaction_id = t.id)
    UNION ALL
    SELECT s.user_id, s.txn_date, s.category, s.txn_type, sum(s.share + CASE WHEN s.first THEN s.rest ELSE 0 END)
    FROM (
        SELECT x.*, x.base_amount - sum(x.share) OVER (PARTITION BY x.id) AS rest
        FROM (
            SELECT t.id, t.user_id, t.txn_date, t.txn_type, t.base_amount, l.category,
                   round(t.base_amount * l.amount / sum(l.amount) OVER (PARTITION BY t.id), scale(t.base_amount)) AS share,
                   l.line_no = (SELECT m.line_no FROM bank.transaction_splits AS m WHERE m.transaction_id = t.id
                                ORDER BY m.amount DESC, m.line_no LIMIT 1) AS first
            FROM bank.transactions AS t JOIN bank.transaction_splits AS l ON l.transaction_id = t.id
            WHERE t.kind = 'regular'
        ) AS x
    ) AS s
    GROUP BY s.user_id, s.txn_date, s.id, s.category, s.txn_type
)"""

# Each reference is written from the raw rows, independently of the view (spending from the
# transactions themselves, not from monthly_totals). Columns in the view's order.
REFERENCES = {
    "account_summary": """
        SELECT a.user_id, a.id, a.bank_name, a.account_type, a.masked_account, a.balance, a.currency, u.base_currency,
               round(a.balance * CASE WHEN a.currency = u.base_currency THEN 1
                                      WHEN a.currency = 'EUR' THEN 1.2 WHEN a.currency = 'JPY' AND u.base_currency = 'USD'
                                      THEN round(1 / 150.0, 16) WHEN a.currency = 'USD' THEN round(1 / 1.2, 16)
                                      ELSE round(round(1 / 150.0, 16) * round(1 / 1.2, 16), 16) END, 2),
               a.low_balance_threshold, a.disabled_at IS NULL, a.created_at
        FROM bank.accounts AS a JOIN bank.users AS u ON u.id = a.user_id""",
    "monthly_spending": f"""
        SELECT t.user_id, date_trunc('month', t.txn_date)::date, t.category,
               coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'debit'), 0),
               coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'credit'), 0), count(*), u.base_currency
        FROM {COUNTED} AS t JOIN bank.users AS u ON u.id = t.user_id
        GROUP BY 1, 2, 3, 7""",
    "budget_status": f"""
        SELECT b.user_id, b.id, b.year, b.month, b.category, b.limit_amount, b.rollover, b.carried_in,
               b.limit_amount + b.carried_in, s.spent, b.limit_amount + b.carried_in - s.spent,
               CASE WHEN b.limit_amount + b.carried_in > 0
                    THEN round(s.spent * 100 / (b.limit_amount + b.carried_in), 2) END,
               CASE WHEN s.spent > b.limit_amount + b.carried_in THEN 'exceeded'
                    WHEN s.spent >= (b.limit_amount + b.carried_in) * 0.75 THEN 'warning'
                    ELSE 'ok' END, u.base_currency
        FROM bank.budgets AS b JOIN bank.users AS u ON u.id = b.user_id
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(t.base_amount), 0) AS spent FROM {COUNTED} AS t
            WHERE t.user_id = b.user_id AND t.category = b.category AND t.txn_type = 'debit'
              AND t.txn_date >= make_date(b.year, b.month, 1) AND t.txn_date < make_date(b.year, b.month, 1) + 31
              AND extract(MONTH FROM t.txn_date) = b.month) AS s""",
    "overdue_bills": """
        SELECT user_id, id, biller_name, due_date, amount_due, currency, current_date - due_date
        FROM bank.bills WHERE status = 'overdue' OR (status = 'upcoming' AND due_date < current_date)""",
    "upcoming_bills": """
        SELECT user_id, id, biller_name, due_date, amount_due, currency, auto_pay, recurrence, due_date - current_date
        FROM bank.bills WHERE status = 'upcoming' AND due_date >= current_date""",
    "unread_alerts": "SELECT user_id, id, type, message, created_at FROM bank.alerts WHERE is_read = FALSE",
    "recent_transactions": """
        SELECT t.user_id, t.id, t.txn_date, t.account_id, a.bank_name, a.masked_account, t.description, t.merchant,
               t.category, t.amount, t.currency, t.txn_type, t.kind, t.base_amount, t.posted_date,
               EXISTS (SELECT FROM bank.transaction_splits AS l WHERE l.transaction_id = t.id)
        FROM bank.transactions AS t JOIN bank.accounts AS a ON a.id = t.account_id""",
    "transaction_splits": """
        SELECT l.user_id, l.transaction_id, l.txn_date, l.line_no, l.category, l.amount, t.currency, l.base_amount,
               u.base_currency, l.note, t.description, t.merchant, t.txn_type, t.amount
        FROM bank.transaction_splits AS l JOIN bank.transactions AS t ON t.id = l.transaction_id
        JOIN bank.users AS u ON u.id = l.user_id""",
    "top_merchants": """
        SELECT user_id, date_trunc('month', txn_date)::date, merchant, sum(base_amount), count(*)
        FROM bank.transactions WHERE kind = 'regular' AND txn_type = 'debit' AND merchant IS NOT NULL GROUP BY 1, 2, 3""",
    "cash_flow": f"""
        SELECT t.user_id, date_trunc('month', t.txn_date)::date,
               coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'credit'), 0),
               coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'debit'), 0),
               coalesce(sum(CASE t.txn_type WHEN 'credit' THEN t.base_amount ELSE -t.base_amount END), 0),
               u.base_currency
        FROM {COUNTED} AS t JOIN bank.users AS u ON u.id = t.user_id
        GROUP BY 1, 2, 6""",
    "net_worth": """
        SELECT u.id, u.base_currency, s.assets, s.liabilities, s.assets - s.liabilities, 0::bigint
        FROM bank.users AS u CROSS JOIN LATERAL (
            SELECT sum(v.balance_in_base_currency) FILTER (WHERE v.account_type IN ('checking', 'savings', 'investment')) AS assets,
                   -sum(v.balance_in_base_currency) FILTER (WHERE v.account_type IN ('credit_card', 'loan')) AS liabilities
            FROM api.account_summary AS v WHERE v.user_id = u.id AND v.is_active) AS s""",
    "rewards_summary": """
        SELECT r.user_id, r.id, r.program_name, r.points_balance,
               (SELECT coalesce(sum(points), 0) FROM bank.reward_entries AS e WHERE e.reward_id = r.id AND e.entry_type = 'earn'),
               (SELECT coalesce(sum(points), 0) FROM bank.reward_entries AS e WHERE e.reward_id = r.id AND e.entry_type = 'redeem'),
               (SELECT max(created_at) FROM bank.reward_entries AS e WHERE e.reward_id = r.id)
        FROM bank.rewards AS r""",
    "statements": """
        SELECT s.user_id, s.id, s.account_id, a.bank_name, a.masked_account, s.period_start, s.period_end, s.currency,
               s.opening_balance, s.closing_balance,
               round(coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'credit' AND t.currency = s.currency), 0),
                     c.minor_unit),
               round(coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'debit' AND t.currency = s.currency), 0),
                     c.minor_unit),
               count(t.id), count(t.id) FILTER (WHERE t.currency <> s.currency),
               CASE WHEN count(t.id) FILTER (WHERE t.currency <> s.currency) = 0 THEN round(
                   s.closing_balance - s.opening_balance
                   - coalesce(sum(CASE t.txn_type WHEN 'credit' THEN t.amount ELSE -t.amount END), 0), c.minor_unit)
               END,
               s.reconciled_at IS NOT NULL, s.reconciled_at,
               count(t.id) FILTER (WHERE t.statement_id IS DISTINCT FROM s.id)
        FROM bank.statements AS s JOIN bank.accounts AS a ON a.id = s.account_id
        JOIN bank.currencies AS c ON c.code = s.currency
        LEFT JOIN bank.transactions AS t ON t.account_id = s.account_id AND t.txn_date BETWEEN s.period_start AND s.period_end
        GROUP BY s.user_id, s.id, a.bank_name, a.masked_account, c.minor_unit""",
    "recurring_candidates": """
        SELECT user_id, id, merchant, typical_amount, currency, recurrence, occurrences, first_date, last_date,
               next_expected_date, status, bill_id, detected_at, decided_at
        FROM bank.recurring_candidates""",
    "tags": """
        SELECT g.user_id, g.id, g.name, g.created_at,
               (SELECT count(*) FROM bank.transaction_tags AS l WHERE l.tag_id = g.id),
               (SELECT max(l.txn_date) FROM bank.transaction_tags AS l WHERE l.tag_id = g.id)
        FROM bank.tags AS g""",
    "tag_monthly_totals": """
        SELECT l.user_id, l.tag_id, g.name, date_trunc('month', t.txn_date)::date,
               round(coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'debit'), 0), c.minor_unit),
               round(coalesce(sum(t.base_amount) FILTER (WHERE t.txn_type = 'credit'), 0), c.minor_unit),
               count(*), u.base_currency
        FROM bank.transaction_tags AS l JOIN bank.transactions AS t ON t.id = l.transaction_id
        JOIN bank.tags AS g ON g.id = l.tag_id JOIN bank.users AS u ON u.id = l.user_id
        JOIN bank.currencies AS c ON c.code = u.base_currency
        WHERE t.kind = 'regular' GROUP BY l.user_id, l.tag_id, g.name, 4, u.base_currency, c.minor_unit""",
    "tagged_transactions": """
        SELECT l.user_id, l.tag_id, g.name, t.id, t.txn_date, t.account_id, a.bank_name, a.masked_account,
               t.description, t.merchant, t.category, t.amount, t.currency, t.txn_type, t.kind, t.base_amount,
               t.posted_date
        FROM bank.transaction_tags AS l JOIN bank.tags AS g ON g.id = l.tag_id
        JOIN bank.transactions AS t ON t.id = l.transaction_id JOIN bank.accounts AS a ON a.id = t.account_id""",
    "admin_user_overview": """
        SELECT u.id, u.name, u.email, u.kyc_status, u.is_admin, u.created_at,
               (SELECT count(*) FROM bank.accounts AS a WHERE a.user_id = u.id),
               (SELECT count(*) FROM bank.accounts AS a WHERE a.user_id = u.id AND a.disabled_at IS NOT NULL),
               (SELECT max(txn_date) FROM bank.transactions AS t WHERE t.user_id = u.id)
        FROM bank.users AS u""",
    "admin_audit_trail": """
        SELECT l.id, l.timestamp, l.admin_id, u.email, l.action, l.target_type, l.target_id, l.details
        FROM bank.admin_logs AS l LEFT JOIN bank.users AS u ON u.id = l.admin_id""",
}
ADMIN_ONLY = {"admin_user_overview", "admin_audit_trail"}


def ordered(conn: psycopg.Connection, query: str) -> list[tuple]:
    return sorted(conn.execute(query).fetchall(), key=repr)


def test_every_api_view_has_a_reference_a_comment_and_a_section_in_docs_api(conn: psycopg.Connection) -> None:
    from ..conftest import REPO

    views = dict(conn.execute(
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class AS c"
        " WHERE c.relnamespace = 'api'::regnamespace AND c.relkind = 'v'"
    ).fetchall())
    assert set(views) == set(REFERENCES)
    assert [v for v, comment in views.items() if not comment] == []
    api_doc = (REPO / "docs" / "api.md").read_text()
    assert [v for v in views if f"### api.{v}" not in api_doc] == []


@pytest.mark.parametrize("view", sorted(REFERENCES))
def test_a_view_equals_its_reference(conn: psycopg.Connection, data: list[int], view: str) -> None:
    rows = ordered(conn, f"SELECT * FROM api.{view}")
    assert rows, f"the generated data should give api.{view} some rows"
    assert rows == ordered(conn, REFERENCES[view])
    if view in ADMIN_ONLY:
        return
    user = data[1]
    with acting(conn, "bank_app", user):
        mine = ordered(conn, f"SELECT * FROM api.{view}")
    assert mine == [r for r in rows if r[0] == user] and mine
