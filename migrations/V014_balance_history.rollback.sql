-- Undo V014. The functions of functions/ that name the tables below go first: their files are
-- applied again by the next migrate, which forgets every repeatable script after a rollback.
-- The totals trigger of bank.transactions names bank.daily_flows too: its function is put back
-- below as it was before V014 (as on one server; on Citus the next migrate renders it again), so
-- that writes to transactions, and a migration that updates them, keep their totals meanwhile.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.balance_history(bigint, date, date);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.net_worth_history(date, date, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.balances_by_day(bigint, date, date, bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.flows_from_raw_rows(bigint);
DROP TRIGGER IF EXISTS _600_balance_history_insert ON bank.accounts;
DROP TRIGGER IF EXISTS _600_balance_history_update ON bank.accounts;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_accounts__balance_history();
DROP TABLE bank.account_balances;
DROP TABLE bank.daily_flows;

CREATE OR REPLACE FUNCTION bank.tg_transactions__monthly_totals()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Its statements take arrays as parameters; with custom plans they were planned again on every
-- call, which cost more than running them (measured: a one-row INSERT 0.56 -> 0.41 ms).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_users bigint[];
    v_months date[];
    v_categories text[];
    v_spending numeric[];
    v_income numeric[];
    v_counts bigint[];
BEGIN
    -- The statement's changes per user, month and category: plus what it wrote, minus what it
    -- removed (a row moved to another month's partition shows in both transition tables of the
    -- UPDATE). Static SQL, one query per event, so PL/pgSQL plans each once per session: planning
    -- a dynamic query cost more than the rest of a one-row INSERT.
    IF TG_OP = 'INSERT' THEN
        SELECT
            array_agg(d.user_id), array_agg(d.month), array_agg(d.category),
            array_agg(d.spending), array_agg(d.income), array_agg(d.txn_count)
        INTO v_users, v_months, v_categories, v_spending, v_income, v_counts
        FROM (
            SELECT
                n.user_id,
                date_trunc('month', n.txn_date)::date AS month,
                coalesce(n.category, 'Other') AS category,
                coalesce(sum(n.base_amount) FILTER (WHERE n.txn_type = 'debit'), 0) AS spending,
                coalesce(sum(n.base_amount) FILTER (WHERE n.txn_type = 'credit'), 0) AS income,
                count(*) AS txn_count
            FROM new_rows AS n
            WHERE n.kind = 'regular'
            GROUP BY 1, 2, 3
        ) AS d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT
            array_agg(d.user_id), array_agg(d.month), array_agg(d.category),
            array_agg(d.spending), array_agg(d.income), array_agg(d.txn_count)
        INTO v_users, v_months, v_categories, v_spending, v_income, v_counts
        FROM (
            SELECT
                o.user_id,
                date_trunc('month', o.txn_date)::date AS month,
                coalesce(o.category, 'Other') AS category,
                -coalesce(sum(o.base_amount) FILTER (WHERE o.txn_type = 'debit'), 0) AS spending,
                -coalesce(sum(o.base_amount) FILTER (WHERE o.txn_type = 'credit'), 0) AS income,
                -count(*) AS txn_count
            FROM old_rows AS o
            WHERE o.kind = 'regular'
            GROUP BY 1, 2, 3
        ) AS d;
    ELSE
        SELECT
            array_agg(d.user_id), array_agg(d.month), array_agg(d.category),
            array_agg(d.spending), array_agg(d.income), array_agg(d.txn_count)
        INTO v_users, v_months, v_categories, v_spending, v_income, v_counts
        FROM (
            SELECT
                c.user_id,
                date_trunc('month', c.txn_date)::date AS month,
                coalesce(c.category, 'Other') AS category,
                coalesce(sum(c.sign * c.base_amount) FILTER (WHERE c.txn_type = 'debit'), 0) AS spending,
                coalesce(sum(c.sign * c.base_amount) FILTER (WHERE c.txn_type = 'credit'), 0) AS income,
                sum(c.sign) AS txn_count
            FROM (
                SELECT n.user_id, n.txn_date, n.category, n.kind, n.txn_type, n.base_amount, 1 AS sign
                FROM new_rows AS n
                UNION ALL
                SELECT o.user_id, o.txn_date, o.category, o.kind, o.txn_type, o.base_amount, -1 AS sign
                FROM old_rows AS o
            ) AS c
            WHERE c.kind = 'regular'
            GROUP BY 1, 2, 3
        ) AS d;
    END IF;

    WITH upserted AS (
        INSERT INTO bank.monthly_totals AS t (user_id, month, category, spending, income, txn_count)
        SELECT k.user_id, k.month, k.category, k.spending, k.income, k.txn_count
        FROM unnest(v_users, v_months, v_categories, v_spending, v_income, v_counts)
            AS k (user_id, month, category, spending, income, txn_count)
        -- An UPDATE of, say, a description changes no total: leave those rows unlocked.
        WHERE (k.spending <> 0 OR k.income <> 0 OR k.txn_count <> 0)
            -- Deleting a user cascades to the transactions; that user's totals go with the user.
            AND EXISTS (SELECT FROM bank.users AS u WHERE u.id = k.user_id)
        -- Every writer locks totals rows in this order, so two statements never deadlock here.
        ORDER BY k.user_id, k.month, k.category
        ON CONFLICT (user_id, month, category) DO UPDATE SET
            spending = t.spending + excluded.spending,
            income = t.income + excluded.income,
            txn_count = t.txn_count + excluded.txn_count
        RETURNING t.user_id, t.month, t.category, t.spending
    )
    SELECT array_agg(u.user_id), array_agg(u.month), array_agg(u.category), array_agg(u.spending)
    INTO v_users, v_months, v_categories, v_spending
    FROM upserted AS u;

    -- A separate statement, so its snapshot sees a budget created (under the lock of its totals row,
    -- see tg_budgets__init_spent) by a transaction that committed while this one waited for that lock.
    UPDATE bank.budgets AS b
    SET
        spent_amount = k.spending,
        updated_at = now()
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
