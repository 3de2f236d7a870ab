-- The filter by tag: one row per tagged transaction and tag, read from the tag's links in date
-- order (transaction_tags_user_id_tag_id_txn_date_idx), each transaction by its primary key.
CREATE OR REPLACE VIEW api.tagged_transactions WITH (security_invoker = TRUE) AS
SELECT
    t.user_id,
    l.tag_id,
    g.name AS tag_name,
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
    t.posted_date
FROM bank.transaction_tags AS l
INNER JOIN bank.tags AS g ON l.user_id = g.user_id AND l.tag_id = g.id
INNER JOIN bank.transactions AS t
    ON l.user_id = t.user_id AND l.txn_date = t.txn_date AND l.transaction_id = t.id
INNER JOIN bank.accounts AS a ON t.user_id = a.user_id AND t.account_id = a.id;
COMMENT ON VIEW api.tagged_transactions IS
'Transactions with each of their tags (tag_id, tag_name): WHERE tag_id = $1 ORDER BY txn_date DESC, id DESC '
'LIMIT n, with a date range on txn_date for a period.';
