-- Each statement and where it stands: the credits and debits of its account in its period (in the
-- statement's currency, at its scale), the difference from what its balances say, and whether it
-- is reconciled. A reconciled statement whose period has since gained a transaction (a late
-- booking, which is not refused) shows it in unreconciled_count and in difference; un-reconciling
-- and reconciling it again takes the new row in.
CREATE OR REPLACE VIEW api.statements WITH (security_invoker = TRUE) AS
SELECT
    s.user_id,
    s.id,
    s.account_id,
    a.bank_name,
    a.masked_account,
    s.period_start,
    s.period_end,
    s.currency,
    s.opening_balance,
    s.closing_balance,
    round(f.credits, c.minor_unit) AS credits,
    round(f.debits, c.minor_unit) AS debits,
    f.txn_count,
    f.other_currency_count,
    -- Transactions in another currency cannot be compared in the statement's: no difference then.
    CASE
        WHEN f.other_currency_count = 0
            THEN round((s.closing_balance - s.opening_balance) - (f.credits - f.debits), c.minor_unit)
    END AS difference,
    s.reconciled_at IS NOT NULL AS reconciled,
    s.reconciled_at,
    f.txn_count - f.reconciled_count AS unreconciled_count
FROM bank.statements AS s
INNER JOIN bank.accounts AS a ON s.user_id = a.user_id AND s.account_id = a.id
INNER JOIN bank.currencies AS c ON s.currency = c.code
CROSS JOIN LATERAL (
    SELECT
        coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'credit' AND t.currency = s.currency), 0) AS credits,
        coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'debit' AND t.currency = s.currency), 0) AS debits,
        count(*) AS txn_count,
        count(*) FILTER (WHERE t.currency <> s.currency) AS other_currency_count,
        count(*) FILTER (WHERE t.statement_id = s.id) AS reconciled_count
    FROM bank.transactions AS t
    WHERE
        t.user_id = s.user_id AND t.account_id = s.account_id
        AND t.txn_date >= s.period_start AND t.txn_date <= s.period_end
) AS f;
COMMENT ON VIEW api.statements IS
'Each statement with its account''s credits and debits in the period, difference (closing - opening - (credits - '
'debits); NULL when a transaction is in another currency), reconciled, and the period''s transactions not '
'reconciled by it. ORDER BY account_id, period_start.';
