-- An admin disables a user's account; the change and its audit entry commit together.
-- SECURITY DEFINER: bank_admin changes accounts only through these audited functions.
CREATE OR REPLACE FUNCTION bank.admin_disable_account(
    p_admin_id bigint, p_user_id bigint, p_account_id bigint, p_reason text
)
RETURNS bank.admin_logs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_before timestamptz;
    v_after timestamptz := now();
    v_log bank.admin_logs;
BEGIN
    PERFORM bank.require_admin(p_admin_id);
    IF coalesce(btrim(p_reason), '') = '' THEN
        RAISE EXCEPTION 'disabling an account needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT a.disabled_at INTO v_before FROM bank.accounts AS a
    WHERE a.user_id = p_user_id AND a.id = p_account_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account (id=%) of user % not found', p_account_id, p_user_id USING ERRCODE = 'BKNF1';
    END IF;
    IF v_before IS NOT NULL THEN
        RAISE EXCEPTION 'account (id=%) is already disabled (since %)', p_account_id, v_before USING ERRCODE = 'BKAD2';
    END IF;
    UPDATE bank.accounts SET disabled_at = v_after WHERE user_id = p_user_id AND id = p_account_id;
    INSERT INTO bank.admin_logs (admin_id, action, target_type, target_id, details)
    VALUES (
        p_admin_id, 'disabled_account', 'Account', p_account_id,
        jsonb_build_object(
            'user_id', p_user_id,
            'reason', p_reason,
            'before', jsonb_build_object('disabled_at', v_before),
            'after', jsonb_build_object('disabled_at', v_after)
        )
    )
    RETURNING * INTO v_log;
    RETURN v_log;
END;
$$;
COMMENT ON FUNCTION bank.admin_disable_account(bigint, bigint, bigint, text) IS
'Disables an account (disabled_at) with a reason and logs it (action disabled_account, before and after).';
