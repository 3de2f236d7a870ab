-- The lines of the user's split transactions, with the transaction they split: what the totals
-- count instead of the transaction's own category (base_amount is the line's share of the
-- transaction's, in the user's base currency).
CREATE OR REPLACE VIEW api.transaction_splits WITH (security_invoker = TRUE) AS
SELECT
    l.user_id,
    l.transaction_id,
    l.txn_date,
    l.line_no,
    l.category,
    l.amount,
    t.currency,
    l.base_amount,
    u.base_currency,
    l.note,
    t.description,
    t.merchant,
    t.txn_type,
    t.amount AS transaction_amount
FROM bank.transaction_splits AS l
INNER JOIN bank.transactions AS t
    ON l.user_id = t.user_id AND l.txn_date = t.txn_date AND l.transaction_id = t.id
INNER JOIN bank.users AS u ON l.user_id = u.id;
COMMENT ON VIEW api.transaction_splits IS
'The lines of split transactions (category, amount in the transaction''s currency, base_amount: the line''s share '
'in the user''s base currency, note) with their transaction: WHERE transaction_id = $1 ORDER BY line_no.';
