-- A new budget, or one moved to another month or category, starts with the spending already
-- counted for it, even when the month's transactions came first.
-- SECURITY DEFINER: applications never write monthly_totals themselves.
CREATE OR REPLACE FUNCTION bank.tg_budgets__init_spent()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A row that breaks a constraint is left to that constraint, which names itself.
    IF NEW.month NOT BETWEEN 1 AND 12 OR NEW.year NOT BETWEEN 2000 AND 2200
        OR NOT EXISTS (SELECT FROM bank.category_master WHERE name = NEW.category)
        OR NOT EXISTS (SELECT FROM bank.users WHERE id = NEW.user_id) THEN
        RETURN NEW;
    END IF;
    -- Lock (or create) the totals row before reading it: a writer adding to it either committed
    -- first, and its spending is read here, or waits, and then sees this budget and updates it.
    -- has_budget: from now on an insert counted in this row updates budgets (the writer waiting
    -- for this lock reads the flag from the row as this transaction commits it).
    INSERT INTO bank.monthly_totals AS t (user_id, month, category, has_budget)
    VALUES (NEW.user_id, make_date(NEW.year, NEW.month, 1), NEW.category, TRUE)
    ON CONFLICT (user_id, month, category) DO UPDATE SET has_budget = TRUE
    RETURNING t.spending INTO NEW.spent_amount;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_budgets__init_spent() IS
'BEFORE INSERT OR UPDATE OF user_id, year, month, category row trigger of bank.budgets: '
'sets spent_amount from bank.monthly_totals.';

CREATE OR REPLACE TRIGGER _200_init_spent BEFORE INSERT OR UPDATE OF user_id, year, month, category ON bank.budgets
FOR EACH ROW EXECUTE FUNCTION bank.tg_budgets__init_spent();
