-- Categorizes a user's existing uncategorized transactions by their active rules (as on insert).
-- A category set by hand, or by a rule before, is never touched: only rows without one are.
CREATE OR REPLACE FUNCTION bank.apply_category_rules(p_user_id bigint)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
STRICT
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE bank.transactions AS t
    SET
        category = m.category,
        category_rule_id = m.rule_id
    FROM (
        SELECT u.txn_date, u.id, r.id AS rule_id, r.category
        FROM bank.transactions AS u
        CROSS JOIN LATERAL (
            SELECT r.id, r.category
            FROM bank.category_rules AS r
            WHERE r.user_id = u.user_id
                AND r.is_active
                AND (r.keyword_pattern IS NULL OR u.description ~* r.keyword_pattern)
                AND (r.merchant_pattern IS NULL OR u.merchant ~* r.merchant_pattern)
            ORDER BY r.priority DESC, r.id
            LIMIT 1
        ) AS r
        WHERE u.user_id = p_user_id AND u.category IS NULL
    ) AS m
    WHERE t.user_id = p_user_id AND t.txn_date = m.txn_date AND t.id = m.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.apply_category_rules(bigint) IS
'Applies the user''s active rules to the user''s uncategorized transactions; returns how many it categorized.';
