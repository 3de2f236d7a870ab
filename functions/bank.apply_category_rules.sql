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
        CROSS JOIN LATERAL bank.matching_rule(u.user_id, u.description, u.merchant) AS r
        WHERE u.user_id = p_user_id AND u.category IS NULL
    ) AS m
    WHERE t.user_id = p_user_id AND t.txn_date = m.txn_date AND t.id = m.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.apply_category_rules(bigint) IS
'Applies the user''s active rules to the user''s uncategorized transactions; returns how many it categorized.';
