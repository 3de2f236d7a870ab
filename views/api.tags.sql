-- The tag list: each of the user's tags with how many transactions carry it and the newest one's
-- date, from the links alone (an index-only count; links of archived months count, as their
-- monthly totals stay).
CREATE OR REPLACE VIEW api.tags WITH (security_invoker = TRUE) AS
SELECT
    g.user_id,
    g.id,
    g.name,
    g.created_at,
    count(l.transaction_id) AS txn_count,
    max(l.txn_date) AS last_txn_date
FROM bank.tags AS g
LEFT JOIN bank.transaction_tags AS l ON g.user_id = l.user_id AND g.id = l.tag_id
GROUP BY g.user_id, g.id;
COMMENT ON VIEW api.tags IS
'The user''s tags with txn_count (transactions carrying the tag) and last_txn_date (the newest one''s date): '
'ORDER BY lower(name), or ORDER BY last_txn_date DESC NULLS LAST for the recently used.';
