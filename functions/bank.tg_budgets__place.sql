-- Places a new budget, or one moved to another month, category or user: it starts with the
-- spending already counted for its month and category (spent_amount, even when the month's
-- transactions came first) and with what the budget of the month before (same user and category)
-- passes on (carried_in; none there, nothing carried: the chain breaks at a month without a budget).
-- One trigger, so that the row is checked once and the two totals rows it locks are locked in one
-- place, in key order (user, month, category): the month before's, then its own.
-- Three locks make this exact under concurrency:
-- * its own month's totals row (bank.monthly_totals, made empty when missing) is locked before it
--   is read: a writer adding to it either committed first, and its spending is read here, or
--   waits, and then reads has_budget (set here) and updates this budget;
-- * the month before's totals row is locked the same way: two budgets created at once in adjacent
--   months would each miss the other (neither sees the other's uncommitted row); locking that
--   row, the second waits for the first to commit, and its next query (a new snapshot) reads it,
--   or its own carry forward finds the later month. A row lock, not an advisory lock per chain: a
--   statement writing budgets for 10,000 chains would need 10,000 advisory locks and run out of
--   the shared lock table ("out of shared memory");
-- * the month before's budget is read FOR SHARE: a session changing it meanwhile either committed
--   first (and is read here) or waits until this one commits, and its own carry forward (a new
--   statement, see bank.tg_budgets__carry_forward) then sees this budget and updates it.
-- SECURITY DEFINER: applications never write monthly_totals, spent_amount or carried_in themselves.
CREATE OR REPLACE FUNCTION bank.tg_budgets__place()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Custom plans: a generic plan made while bank.budgets is small (a new database, a statement that
-- creates its first budgets) scans the table whole and is kept for the session, so a statement
-- creating 40,000 budgets read the table once per budget (112 s instead of 9 s; a test makes 20,000).
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    -- The month before, as a month count (year * 12 + month - 1).
    v_before integer := NEW.year * 12 + NEW.month - 2;
    v_row record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Named in the SET list but not moved: its spending and what it carries in stay.
        IF (OLD.user_id, OLD.year, OLD.month, OLD.category) IS NOT DISTINCT FROM
            (NEW.user_id, NEW.year, NEW.month, NEW.category) THEN
            RETURN NEW;
        END IF;
    END IF;
    -- A row that breaks a constraint is left to that constraint, which names itself.
    IF NEW.month NOT BETWEEN 1 AND 12 OR NEW.year NOT BETWEEN 2000 AND 2200
        OR NOT EXISTS (SELECT FROM bank.category_master WHERE name = NEW.category)
        OR NOT EXISTS (SELECT FROM bank.users WHERE id = NEW.user_id) THEN
        RETURN NEW;
    END IF;

    INSERT INTO bank.monthly_totals AS t (user_id, month, category)
    VALUES (NEW.user_id, make_date(v_before / 12, v_before % 12 + 1, 1), NEW.category)
    ON CONFLICT (user_id, month, category) DO UPDATE SET spending = t.spending;
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

    -- has_budget: from now on an insert counted in this row updates budgets (the writer waiting
    -- for this lock reads the flag from the row as this transaction commits it).
    INSERT INTO bank.monthly_totals AS t (user_id, month, category, has_budget)
    VALUES (NEW.user_id, make_date(NEW.year, NEW.month, 1), NEW.category, TRUE)
    ON CONFLICT (user_id, month, category) DO UPDATE SET has_budget = TRUE
    RETURNING t.spending INTO NEW.spent_amount;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__place() IS
'BEFORE INSERT OR UPDATE OF user_id, year, month, category row trigger of bank.budgets: sets spent_amount from '
'bank.monthly_totals (flagging its row has_budget) and carried_in from the budget of the month before '
'(bank.budget_carry_out), 0 when there is none.';

-- Until 2026-12 two triggers did this (_200_carry_in, then _200_init_spent, in that order by
-- name), each checking the row again; this trigger replaces them in the same script, so a budget
-- is never written without one or the other.
DROP TRIGGER IF EXISTS _200_carry_in ON bank.budgets;
DROP TRIGGER IF EXISTS _200_init_spent ON bank.budgets;
DROP FUNCTION IF EXISTS bank.tg_budgets__carry_in();
DROP FUNCTION IF EXISTS bank.tg_budgets__init_spent();
CREATE OR REPLACE TRIGGER _200_place BEFORE INSERT OR UPDATE OF user_id, year, month, category ON bank.budgets
FOR EACH ROW EXECUTE FUNCTION bank.tg_budgets__place();
