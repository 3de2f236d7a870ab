-- The default of every user_id column: rows an application inserts belong to the acting user
-- without naming it. With no acting user it is an error that says what to do.
CREATE OR REPLACE FUNCTION bank.acting_user_id()
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_user_id bigint := api.current_user_id();
BEGIN
    IF v_user_id IS NULL THEN
        RAISE EXCEPTION 'no acting user: call api.set_user(user_id) in this transaction first'
            USING ERRCODE = 'BKUS1';
    END IF;
    RETURN v_user_id;
END;
$$;
COMMENT ON FUNCTION bank.acting_user_id() IS
'api.current_user_id(), or error BKUS1 when no user is set; the default of user_id columns.';
