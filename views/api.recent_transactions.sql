CREATE OR REPLACE VIEW api.recent_transactions WITH (security_invoker = TRUE) AS
SELECT
    t.user_id,
    t.id,
    t.txn_date,
    t.account_id,
    a.bank_name,
    a.masked_account,
    t.description,
    t.merchant,
    t.category,
    t.amount,
    t.currency,
    t.txn_type,
    t.kind,
    t.base_amount,
    t.posted_date,
    -- Looked up for the rows returned only (ORDER BY ... LIMIT n reads no other line).
    (
        SELECT count(*) > 0
        FROM bank.transaction_splits AS l
        WHERE l.user_id = t.user_id AND l.txn_date = t.txn_date AND l.transaction_id = t.id
    ) AS is_split
FROM bank.transactions AS t
INNER JOIN bank.accounts AS a ON t.user_id = a.user_id AND t.account_id = a.id;
COMMENT ON VIEW api.recent_transactions IS
'Transactions with their account, newest first: ORDER BY txn_date DESC, id DESC LIMIT n, or a date range on '
'txn_date (which picks the monthly partitions). is_split: the transaction has lines (api.transaction_splits), '
'and the totals count it by their categories instead of its own.';
