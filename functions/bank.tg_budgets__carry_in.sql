-- A new budget, or one moved to another month, category or user, starts with what the budget of
-- the month before (same user and category) passes on; none there, nothing carried (the chain
-- breaks at a month without a budget).
-- Two locks make this exact under concurrency:
-- * the month before is read FOR SHARE: a session changing it meanwhile either committed first
--   (and is read here) or waits until this one commits, and its own carry forward (a new
--   statement, see bank.tg_budgets__carry_forward) then sees this budget and updates it;
-- * a transaction-level advisory lock per (user, category) chain: two budgets created at once in
--   adjacent months would each miss the other (neither sees the other's uncommitted row); with it
--   the second waits, then reads the first.
-- SECURITY DEFINER: carried_in is written by bankdb only, and the month before is locked as its owner.
CREATE OR REPLACE FUNCTION bank.tg_budgets__carry_in()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- The month before, as a month count (year * 12 + month - 1).
    v_before integer := NEW.year * 12 + NEW.month - 2;
    v_row record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Named in the SET list but not moved: what it carries in stays.
        IF (OLD.user_id, OLD.year, OLD.month, OLD.category) IS NOT DISTINCT FROM
            (NEW.user_id, NEW.year, NEW.month, NEW.category) THEN
            RETURN NEW;
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(format('bank.budgets %s %s', NEW.user_id, NEW.category), 0));
    -- A plain read of the row, and bank.budget_carry_out applied to it here, outside the query
    -- (which Citus routes to the user's shard as it is).
    SELECT p.rollover, p.limit_amount, p.carried_in, p.spent_amount
    INTO v_row
    FROM bank.budgets AS p
    WHERE p.user_id = NEW.user_id
        AND p.year = (v_before / 12)::smallint
        AND p.month = (v_before % 12 + 1)::smallint
        AND p.category = NEW.category
        AND p.id <> NEW.id
    FOR SHARE;
    NEW.carried_in := 0;
    IF FOUND THEN
        NEW.carried_in := bank.budget_carry_out(v_row.rollover, v_row.limit_amount, v_row.carried_in, v_row.spent_amount);
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__carry_in() IS
'BEFORE INSERT OR UPDATE OF user_id, year, month, category row trigger of bank.budgets: sets carried_in from the '
'budget of the month before (bank.budget_carry_out), 0 when there is none.';

CREATE OR REPLACE TRIGGER _200_carry_in BEFORE INSERT OR UPDATE OF user_id, year, month, category ON bank.budgets
FOR EACH ROW EXECUTE FUNCTION bank.tg_budgets__carry_in();
