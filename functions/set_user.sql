-- Acts for a user until the end of the current transaction: transaction-local, so a pooled
-- connection (PgBouncer in transaction mode) never carries it over to another client.
CREATE OR REPLACE FUNCTION api.set_user(p_user_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'api.set_user needs a user id, not NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM set_config('app.user_id', p_user_id::text, TRUE);
END;
$$;
COMMENT ON FUNCTION api.set_user(bigint) IS
'Sets the user this transaction acts for (app.user_id, transaction-local). Call it first in every transaction.';
