-- Carries a budget's change forward: after a budget is created, deleted, moved, or changes what it
-- passes on (its rollover, limit, spending or carried_in), the next month's budget of the same
-- user and category gets carried_in from it again (bank.budget_carry_out). That UPDATE fires this
-- trigger on the next month in turn, so the change flows through every later month of the chain
-- in the same statement, and stops at the first month whose carried_in does not change, or that
-- has no budget (the chain breaks there).
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
-- Custom plans: a generic plan made while bank.budgets is small (a new database, a statement that
-- creates its first budgets) scans the table whole and is kept for the session, so a statement
-- creating 40,000 budgets read the table once per budget (112 s instead of 9 s; a test makes 20,000).
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    -- The months whose budget follows from a place this row left or holds: month counts
    -- (year * 12 + month - 1) with their user and category.
    v_users bigint[] := '{}';
    v_months integer[] := '{}';
    v_categories text[] := '{}';
    v_user_id bigint;
    v_year smallint;
    v_month smallint;
    v_category text;
    v_before record;
    v_carry numeric;
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
        -- Plain variables in the queries: Citus routes a statement to the user's shard when its
        -- user_id is compared with a parameter, not with an expression such as v_users[i].
        v_user_id := v_users[i];
        v_category := v_categories[i];
        v_year := ((v_months[i] - 1) / 12)::smallint;
        v_month := ((v_months[i] - 1) % 12 + 1)::smallint;
        -- A plain read of the row, and bank.budget_carry_out applied to it here, outside the query
        -- (which Citus routes to the user's shard as it is).
        SELECT p.rollover, p.limit_amount, p.carried_in, p.spent_amount
        INTO v_before
        FROM bank.budgets AS p
        WHERE p.user_id = v_user_id
            AND p.year = v_year
            AND p.month = v_month
            AND p.category = v_category;
        v_carry := 0;
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
        WHERE n.user_id = v_user_id
            AND n.year = (v_months[i] / 12)::smallint
            AND n.month = (v_months[i] % 12 + 1)::smallint
            AND n.category = v_category
            AND n.carried_in <> v_carry;
    END LOOP;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__carry_forward() IS
'AFTER INSERT, UPDATE and DELETE row trigger of bank.budgets: sets the next month''s carried_in (same user and '
'category) from the budget before it, which cascades through the later months of the chain.';

-- A budget that passes nothing on (none), before and after, changes no later month: its next
-- month carries 0 from it, as from no budget. Most budgets are such, and the totals trigger
-- updates their spent_amount on every transaction: their triggers are not even called.
-- The columns that decide what a budget passes on are named in UPDATE OF (a test of the statement's
-- column list), not compared in the condition: PostgreSQL reads a trigger's condition again for
-- every statement that updates budgets (each insert's), and the comparison of eight columns cost
-- an insert more than the calls it saved (the function changes nothing when nothing changed).
CREATE OR REPLACE TRIGGER _500_carry_forward_insert AFTER INSERT ON bank.budgets
FOR EACH ROW WHEN (new.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
CREATE OR REPLACE TRIGGER _500_carry_forward_update
AFTER UPDATE OF user_id, year, month, category, rollover, limit_amount, carried_in, spent_amount ON bank.budgets
FOR EACH ROW WHEN (old.rollover <> 'none' OR new.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
CREATE OR REPLACE TRIGGER _500_carry_forward_delete AFTER DELETE ON bank.budgets
FOR EACH ROW WHEN (old.rollover <> 'none')
EXECUTE FUNCTION bank.tg_budgets__carry_forward();
