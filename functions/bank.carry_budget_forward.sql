-- One link of a rollover chain: the budget of the month after (p_year, p_month), same user and
-- category, gets carried_in from that month's budget as it is now (bank.budget_carry_out; 0 when
-- there is none). That UPDATE fires the next budget's carry-forward trigger in turn, so a change
-- flows through every later month of the chain, and stops at the first month whose carried_in
-- does not change, or that has no budget (the chain breaks there). Called by the budgets'
-- carry-forward trigger and by bank.set_budgets_spent, which run as bankdb's owner.
CREATE OR REPLACE FUNCTION bank.carry_budget_forward(
    p_user_id bigint,
    p_category text,
    p_year smallint,
    p_month smallint
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
-- Custom plans: a generic plan made while bank.budgets is small (a new database, a statement that
-- creates its first budgets) scans the table whole and is kept for the session, so a statement
-- creating 40,000 budgets read the table once per budget (112 s instead of 9 s; a test makes 20,000).
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_next integer := p_year * 12 + p_month;  -- the next month's count (year * 12 + month - 1)
    v_before record;
    v_carry numeric := 0;
BEGIN
    -- A plain read of the row, and bank.budget_carry_out applied to it here, outside the query:
    -- Citus routes a statement to the user's shard when its user_id is compared with a parameter.
    SELECT p.rollover, p.limit_amount, p.carried_in, p.spent_amount
    INTO v_before
    FROM bank.budgets AS p
    WHERE p.user_id = p_user_id
        AND p.year = p_year
        AND p.month = p_month
        AND p.category = p_category;
    IF FOUND THEN
        v_carry := bank.budget_carry_out(
            v_before.rollover, v_before.limit_amount, v_before.carried_in, v_before.spent_amount
        );
    END IF;
    -- Sets updated_at itself, so the budgets' _100_set_updated_at is not called for it.
    UPDATE bank.budgets AS n
    SET
        carried_in = v_carry,
        updated_at = now()
    WHERE n.user_id = p_user_id
        AND n.year = (v_next / 12)::smallint
        AND n.month = (v_next % 12 + 1)::smallint
        AND n.category = p_category
        AND n.carried_in <> v_carry;
END;
$$;
COMMENT ON FUNCTION bank.carry_budget_forward(bigint, text, smallint, smallint) IS
'Sets carried_in of the budget after (user, category, year, month) from that month''s budget '
'(bank.budget_carry_out; 0 when there is none); its triggers carry the change on through the chain.';
