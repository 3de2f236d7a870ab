-- What a budget passes on to the next month's budget of its category, by its own rollover setting
-- (the earlier month decides): nothing (none), what is left of limit + carried_in but never less
-- than 0 (surplus_only), or what is left, negative when overspent (both_ways; an overspend is not
-- floored at zero). The one definition the triggers, bank.verify_totals and bank.rebuild_totals use.
-- No CASE x WHEN: Citus evaluates that form with a bound parameter as NULL::boolean (citusdata/citus#2862).
CREATE OR REPLACE FUNCTION bank.budget_carry_out(
    p_rollover text, p_limit_amount numeric, p_carried_in numeric, p_spent_amount numeric
)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN p_rollover = 'both_ways' THEN p_limit_amount + p_carried_in - p_spent_amount
        WHEN p_rollover = 'surplus_only' THEN greatest(p_limit_amount + p_carried_in - p_spent_amount, 0)
        ELSE 0
    END
$$;
COMMENT ON FUNCTION bank.budget_carry_out(text, numeric, numeric, numeric) IS
'What a budget (rollover, limit_amount, carried_in, spent_amount) carries into the next month''s budget of its '
'category: 0 (none), greatest(limit + carried_in - spent, 0) (surplus_only), limit + carried_in - spent (both_ways).';
