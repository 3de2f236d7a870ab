CREATE OR REPLACE VIEW api.rewards_summary WITH (security_invoker = TRUE) AS
SELECT
    r.user_id,
    r.id,
    r.program_name,
    r.points_balance,
    coalesce(sum(e.points) FILTER (WHERE e.entry_type = 'earn'), 0) AS points_earned,
    coalesce(sum(e.points) FILTER (WHERE e.entry_type = 'redeem'), 0) AS points_redeemed,
    max(e.created_at) AS last_entry_at
FROM bank.rewards AS r
LEFT JOIN bank.reward_entries AS e ON r.user_id = e.user_id AND r.id = e.reward_id
GROUP BY r.user_id, r.id, r.program_name, r.points_balance;
COMMENT ON VIEW api.rewards_summary IS 'Each rewards program with its balance and the points earned and redeemed.';
