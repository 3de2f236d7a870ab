-- The user the current transaction acts for, or NULL: row-level security compares user_id with it,
-- so an unset acting user sees no rows (fail closed). app.user_id holds 'user@transaction start'
-- as api.set_user wrote it; a value written by anything else, or left from an earlier transaction
-- of the same connection, names no user.
CREATE OR REPLACE FUNCTION api.current_user_id()
RETURNS bigint
LANGUAGE sql
STABLE
AS $$
    SELECT CASE
        WHEN split_part(s.acting, '@', 2) = extract(EPOCH FROM transaction_timestamp())::text
            THEN split_part(s.acting, '@', 1)::bigint
    END
    FROM (SELECT current_setting('app.user_id', TRUE) AS acting) AS s
$$;
COMMENT ON FUNCTION api.current_user_id() IS
'The user set by api.set_user() in this transaction, or NULL. Policies read it once per statement.';
