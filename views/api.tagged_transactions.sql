-- The filter by tag: one row per tagged transaction and tag. The tag's links are read in date
-- order (transaction_tags_user_id_tag_id_txn_date_transaction_id_idx, whose txn_date and
-- transaction_id are the view's txn_date and id, so ORDER BY txn_date DESC, id DESC LIMIT n walks
-- it backwards and stops), and each transaction by its primary key in its month's partition: the
-- LATERAL subquery (LIMIT 1: the key finds one row) is not flattened into a join, which the planner,
-- taking every user for an average one, would rather answer with a scan of all the user's rows.
CREATE OR REPLACE VIEW api.tagged_transactions WITH (security_invoker = TRUE) AS
SELECT
    l.user_id,
    l.tag_id,
    g.name AS tag_name,
    l.transaction_id AS id,
    l.txn_date,
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
CROSS JOIN
    LATERAL (
        SELECT
            x.account_id,
            x.description,
            x.merchant,
            x.category,
            x.amount,
            x.currency,
            x.txn_type,
            x.kind,
            x.base_amount,
            x.posted_date
        FROM bank.transactions AS x
        WHERE x.user_id = l.user_id AND x.txn_date = l.txn_date AND x.id = l.transaction_id
        LIMIT 1  -- noqa: AM09
    ) AS t
INNER JOIN bank.accounts AS a ON l.user_id = a.user_id AND t.account_id = a.id;
COMMENT ON VIEW api.tagged_transactions IS
'Transactions with each of their tags (tag_id, tag_name): WHERE tag_id = $1 ORDER BY txn_date DESC, id DESC '
'LIMIT n, with a range of txn_date for a period.';
