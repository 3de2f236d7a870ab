-- bank.find_recurring_candidates for the acting user, e.g. right after an import.
-- SECURITY DEFINER: it writes the user's proposals, which applications only read.
CREATE OR REPLACE FUNCTION api.find_recurring_candidates(p_today date DEFAULT current_date)
RETURNS integer
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT bank.find_recurring_candidates(bank.acting_user_id(), p_today)
$$;
COMMENT ON FUNCTION api.find_recurring_candidates(date) IS
'Finds the acting user''s recurring payments as of p_today (see bank.find_recurring_candidates); returns how many '
'are proposed.';
