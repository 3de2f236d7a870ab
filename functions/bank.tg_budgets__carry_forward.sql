-- Carries a budget's change forward: after a budget is created, deleted, moved, or changes what it
-- passes on (its rollover, limit or carried_in), the next month's budget of the same user and
-- category gets carried_in from it again (bank.carry_budget_forward). That UPDATE fires this
-- trigger on the next month in turn, so the change flows through every later month of the chain
-- in the same statement. A change of spending is carried forward by bank.set_budgets_spent.
-- What is passed on is read from the budget as it is now, not from NEW: a statement that changes
-- two months of one chain queues this trigger for both before either runs, and the earlier
-- month's run may already have changed the later one again.
-- Lock order: a statement locks the rows it writes, then the later months of each chain in month
-- order; a writer of a later month never waits for an earlier one, so two single-month writes of
-- one chain never deadlock, and each reads the other's committed row (its UPDATE waits for the
-- other's lock and sees its row).
-- SECURITY DEFINER: applications may read carried_in, never write it.
CREATE OR REPLACE FUNCTION bank.tg_budgets__carry_forward()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- The months whose budget follows from a place this row left or holds: month counts
    -- (year * 12 + month - 1) with their user and category.
    v_users bigint[] := '{}';
    v_months integer[] := '{}';
    v_categories text[] := '{}';
    i integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        -- A budget deleted or moved: the month after its old place now follows from whatever is
        -- there (nothing, unless another budget moved in).
        IF TG_OP = 'DELETE' THEN
            v_users := ARRAY[OLD.user_id];
            v_months := ARRAY[OLD.year * 12 + OLD.month];
            v_categories := ARRAY[OLD.category];
        ELSIF (OLD.user_id, OLD.year, OLD.month, OLD.category) IS DISTINCT FROM
            (NEW.user_id, NEW.year, NEW.month, NEW.category) THEN
            v_users := ARRAY[OLD.user_id];
            v_months := ARRAY[OLD.year * 12 + OLD.month];
            v_categories := ARRAY[OLD.category];
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_users := v_users || NEW.user_id;
        v_months := v_months || (NEW.year * 12 + NEW.month);
        v_categories := v_categories || NEW.category;
    END IF;
    FOR i IN 1 .. cardinality(v_months) LOOP
        PERFORM bank.carry_budget_forward(
            v_users[i], v_categories[i], ((v_months[i] - 1) / 12)::smallint, ((v_months[i] - 1) % 12 + 1)::smallint
        );
    END LOOP;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__carry_forward() IS
'AFTER INSERT, UPDATE and DELETE row trigger of bank.budgets: sets the next month''s carried_in (same user and '
'category) from the budget before it, which cascades through the later months of the chain.';

-- A budget that passes nothing on (none), before and after, changes no later month: its next
-- month carries 0 from it, as from no budget. The columns that decide what a budget passes on are
-- named in UPDATE OF (a test of the statement's column list), not compared in the condition
-- (the function changes nothing when nothing changed). Not spent_amount: bankdb's own UPDATE of
-- it (bank.set_budgets_spent) carries a change of spending forward itself, so a transaction in a
-- budgeted category fires no trigger of bank.budgets.
CREATE OR REPLACE TRIGGER _500_carry_forward_insert AFTER INSERT ON bank.budgets
FOR EACH ROW WHEN (new.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
CREATE OR REPLACE TRIGGER _500_carry_forward_update
AFTER UPDATE OF user_id, year, month, category, rollover, limit_amount, carried_in ON bank.budgets
FOR EACH ROW WHEN (old.rollover <> 'none' OR new.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
CREATE OR REPLACE TRIGGER _500_carry_forward_delete AFTER DELETE ON bank.budgets
FOR EACH ROW WHEN (old.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
