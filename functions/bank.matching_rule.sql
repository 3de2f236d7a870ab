-- The rule that categorizes a transaction: the first of the user's active rules by priority, ties
-- to the older rule, that matches every pattern it has. One definition for the insert trigger and
-- for bank.apply_category_rules; a plain SQL function, so the planner inlines it into both.
CREATE OR REPLACE FUNCTION bank.matching_rule(p_user_id bigint, p_description text, p_merchant text)
RETURNS TABLE (id bigint, category text)
LANGUAGE sql
STABLE
AS $$
    SELECT r.id, r.category
    FROM bank.category_rules AS r
    WHERE r.user_id = p_user_id
        AND r.is_active
        AND (r.keyword_pattern IS NULL OR p_description ~* r.keyword_pattern)
        AND (r.merchant_pattern IS NULL OR p_merchant ~* r.merchant_pattern)
    ORDER BY r.priority DESC, r.id
    LIMIT 1
$$;
COMMENT ON FUNCTION bank.matching_rule(bigint, text, text) IS
'The user''s rule (id, category) that categorizes a transaction with this description and merchant; no row if none.';
