-- The one rule for budget alerts: budget_exceeded when spending goes over what is available
-- (limit_amount + carried_in), budget_warning when it reaches warning_percent of it without going
-- over; on the crossing only (the old values were not over that line already), or, for a new
-- budget (old values NULL), when it already is. NULL: no alert. The available amount may be 0 or
-- less (an overspend carried both ways), and then any spending is over it. Text, not
-- bank.alert_type: a function whose signature names the type would keep V004's rollback from
-- dropping it.
CREATE OR REPLACE FUNCTION bank.budget_alert_type(
    p_spent numeric,
    p_available numeric,
    p_warning_percent integer,
    p_old_spent numeric,
    p_old_available numeric,
    p_old_warning_percent integer
)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN p_spent > p_available AND NOT coalesce(p_old_spent > p_old_available, FALSE)
            THEN 'budget_exceeded'
        WHEN p_spent * 100 >= p_available * p_warning_percent
            AND p_spent <= p_available
            AND NOT coalesce(p_old_spent * 100 >= p_old_available * p_old_warning_percent, FALSE)
            THEN 'budget_warning'
    END
$$;
COMMENT ON FUNCTION bank.budget_alert_type(numeric, numeric, integer, numeric, numeric, integer) IS
'The alert (budget_exceeded, budget_warning or NULL) a budget''s change from (old spent, old available, old '
'warning_percent; NULL for a new budget) to (spent, available, warning_percent) raises: on a crossing only.';
