-- What the ledger says each rewards balance is: compared by bank.verify_totals, written by
-- bank.rebuild_totals.
CREATE OR REPLACE FUNCTION bank.points_from_ledger(p_user_id bigint DEFAULT NULL)
RETURNS TABLE (user_id bigint, reward_id bigint, program_name text, points bigint)
LANGUAGE sql
STABLE
AS $$
    SELECT
        r.user_id,
        r.id,
        r.program_name,
        coalesce(sum(CASE e.entry_type WHEN 'earn' THEN e.points ELSE -e.points END), 0)::bigint
    FROM bank.rewards AS r
    LEFT JOIN bank.reward_entries AS e ON (e.user_id, e.reward_id) = (r.user_id, r.id)
    WHERE p_user_id IS NULL OR r.user_id = p_user_id
    GROUP BY 1, 2, 3
$$;
COMMENT ON FUNCTION bank.points_from_ledger(bigint) IS 'Each reward''s points balance as its ledger sums it.';
