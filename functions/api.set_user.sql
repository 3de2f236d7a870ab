-- Acts for a user until the end of the current transaction, and not a moment longer: the setting
-- carries the transaction it belongs to (its start time), and api.current_user_id() answers only
-- inside that transaction. A pooled connection (PgBouncer in transaction mode) never carries an
-- identity over to the next client, even if an application wrote app.user_id for the session.
-- SECURITY DEFINER: the caller cannot see bank.users before it acts for someone, and an unknown
-- user is refused here rather than by a foreign key at the first write.
CREATE OR REPLACE FUNCTION api.set_user(p_user_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'api.set_user needs a user id, not NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM bank.users AS u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION 'api.set_user: no user with id %', p_user_id
            USING ERRCODE = 'BKUS2', HINT = 'Act only for a user that exists in bank.users.';
    END IF;
    PERFORM set_config('app.user_id', format('%s@%s', p_user_id, extract(EPOCH FROM transaction_timestamp())), TRUE);
END;
$$;
COMMENT ON FUNCTION api.set_user(bigint) IS
'Sets the user this transaction acts for (app.user_id, valid in this transaction only); BKUS2 for an unknown user. '
'Call it first in every transaction.';
