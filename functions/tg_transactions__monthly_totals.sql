-- Keeps bank.monthly_totals, and the spent_amount of the budgets they feed, exact under every
-- INSERT, UPDATE and DELETE of bank.transactions: once per statement, from its transition tables,
-- as relative changes (x = x + delta) upserted in one fixed order.
-- SECURITY DEFINER: applications may read totals and budgets' spent_amount, never write them.
CREATE OR REPLACE FUNCTION bank.tg_transactions__monthly_totals()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_changes text;
    v_users bigint[];
    v_months date[];
    v_categories text[];
    v_spending numeric[];
BEGIN
    -- The statement's rows, with +1 for what it wrote and -1 for what it removed. A row moved to
    -- another month's partition shows in both transition tables of the UPDATE.
    v_changes := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT user_id, txn_date, category, kind, txn_type, base_amount, 1 AS sign FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT user_id, txn_date, category, kind, txn_type, base_amount, -1 AS sign FROM old_rows'
        ELSE 'SELECT user_id, txn_date, category, kind, txn_type, base_amount, 1 AS sign FROM new_rows
              UNION ALL
              SELECT user_id, txn_date, category, kind, txn_type, base_amount, -1 AS sign FROM old_rows'
    END;
    EXECUTE format(
        $sql$
        WITH deltas AS (
            SELECT
                user_id,
                date_trunc('month', txn_date)::date AS month,
                coalesce(category, 'Other') AS category,
                coalesce(sum(sign * base_amount) FILTER (WHERE txn_type = 'debit'), 0) AS spending,
                coalesce(sum(sign * base_amount) FILTER (WHERE txn_type = 'credit'), 0) AS income,
                sum(sign) AS txn_count
            FROM (%s) AS changes
            WHERE kind = 'regular'
                -- Deleting a user cascades to the transactions; that user's totals go with the user.
                AND EXISTS (SELECT FROM bank.users AS u WHERE u.id = changes.user_id)
            GROUP BY 1, 2, 3
        ),
        upserted AS (
            INSERT INTO bank.monthly_totals AS t (user_id, month, category, spending, income, txn_count)
            SELECT user_id, month, category, spending, income, txn_count
            FROM deltas
            -- An UPDATE of, say, a description changes no total: leave those rows unlocked.
            WHERE spending <> 0 OR income <> 0 OR txn_count <> 0
            -- Every writer locks totals rows in this order, so two statements never deadlock here.
            ORDER BY user_id, month, category
            ON CONFLICT (user_id, month, category) DO UPDATE SET
                spending = t.spending + excluded.spending,
                income = t.income + excluded.income,
                txn_count = t.txn_count + excluded.txn_count
            RETURNING t.user_id, t.month, t.category, t.spending
        )
        SELECT array_agg(user_id), array_agg(month), array_agg(category), array_agg(spending) FROM upserted
        $sql$,
        v_changes
    ) INTO v_users, v_months, v_categories, v_spending;

    -- A separate statement, so its snapshot sees a budget created (under the lock of its totals row,
    -- see tg_budgets__init_spent) by a transaction that committed while this one waited for that lock.
    UPDATE bank.budgets AS b
    SET spent_amount = k.spending
    FROM unnest(v_users, v_months, v_categories, v_spending) AS k (user_id, month, category, spending)
    WHERE b.user_id = k.user_id
        AND b.year = extract(YEAR FROM k.month)::smallint
        AND b.month = extract(MONTH FROM k.month)::smallint
        AND b.category = k.category
        AND b.spent_amount <> k.spending;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__monthly_totals() IS
'AFTER INSERT, UPDATE and DELETE statement trigger of bank.transactions: applies the statement''s changes to '
'bank.monthly_totals and bank.budgets.spent_amount. Regular transactions only; uncategorized count as Other.';

CREATE OR REPLACE TRIGGER _500_monthly_totals_insert AFTER INSERT ON bank.transactions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__monthly_totals();
CREATE OR REPLACE TRIGGER _500_monthly_totals_update AFTER UPDATE ON bank.transactions
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__monthly_totals();
CREATE OR REPLACE TRIGGER _500_monthly_totals_delete AFTER DELETE ON bank.transactions
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__monthly_totals();
