-- Writes a budget's alert (its type from bank.budget_alert_type, as text for the reason given
-- there) with the message the dashboard shows, at most once per budget, type and month (the alerts' key). Called by the budgets' alerts
-- trigger and by bank.set_budgets_spent, which run as bankdb's owner: applications cannot call it.
CREATE OR REPLACE FUNCTION bank.raise_budget_alert(
    p_type text,
    p_budget_id bigint,
    p_user_id bigint,
    p_year smallint,
    p_month smallint,
    p_category text,
    p_spent numeric,
    p_limit_amount numeric,
    p_carried_in numeric
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_currency text;
    v_month date := make_date(p_year, p_month, 1);
    v_available numeric := p_limit_amount + p_carried_in;
BEGIN
    SELECT u.base_currency INTO v_currency FROM bank.users AS u WHERE u.id = p_user_id;
    INSERT INTO bank.alerts (user_id, type, subject_id, period, message)
    VALUES (
        p_user_id, p_type::bank.alert_type, p_budget_id, v_month,
        format(
            '%s budget for %s %s: spent %s %s of %s %s%s%s',
            p_category, to_char(v_month, 'YYYY-MM'),
            CASE WHEN p_type = 'budget_exceeded' THEN 'exceeded' ELSE 'nearly used' END,
            p_spent, v_currency, v_available, v_currency,
            -- Nothing carried in: the limit is what is available, and the message says no more.
            CASE
                WHEN p_carried_in <> 0
                    THEN format(
                        ' available (limit %s %s, carried in %s %s)',
                        p_limit_amount, v_currency, p_carried_in, v_currency
                    )
                ELSE ''
            END,
            CASE WHEN v_available > 0 THEN format(' (%s%%)', round(p_spent * 100 / v_available)) ELSE '' END
        )
    )
    ON CONFLICT (user_id, type, subject_id, period) DO NOTHING;
END;
$$;
COMMENT ON FUNCTION bank.raise_budget_alert(
    text, bigint, bigint, smallint, smallint, text, numeric, numeric, numeric
) IS
'Writes a budget_warning or budget_exceeded alert for a budget (type, id, user, year, month, category, spent, '
'limit_amount, carried_in) with its message, unless the budget has that alert for its month already.';
