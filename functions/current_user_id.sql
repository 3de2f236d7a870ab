-- The user the current transaction acts for, or NULL: row-level security compares user_id with it,
-- so an unset acting user sees no rows (fail closed).
CREATE OR REPLACE FUNCTION api.current_user_id()
RETURNS bigint
LANGUAGE sql
STABLE
AS $$
    SELECT nullif(current_setting('app.user_id', TRUE), '')::bigint
$$;
COMMENT ON FUNCTION api.current_user_id() IS
'The user set by api.set_user() for this transaction, or NULL. Policies read it once per statement.';
