-- An admin marks a user's KYC as verified; the change and its audit entry commit together.
-- SECURITY DEFINER: bank_admin changes users only through these audited functions.
CREATE OR REPLACE FUNCTION bank.admin_verify_kyc(p_admin_id bigint, p_user_id bigint)
RETURNS bank.admin_logs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_before bank.kyc_status;
    v_log bank.admin_logs;
BEGIN
    PERFORM bank.require_admin(p_admin_id);
    SELECT u.kyc_status INTO v_before FROM bank.users AS u WHERE u.id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user (id=%) not found', p_user_id USING ERRCODE = 'BKNF1';
    END IF;
    UPDATE bank.users SET kyc_status = 'verified' WHERE id = p_user_id;
    INSERT INTO bank.admin_logs (admin_id, action, target_type, target_id, details)
    VALUES (
        p_admin_id, 'verified_user', 'User', p_user_id,
        jsonb_build_object(
            'before', jsonb_build_object('kyc_status', v_before),
            'after', jsonb_build_object('kyc_status', 'verified')
        )
    )
    RETURNING * INTO v_log;
    RETURN v_log;
END;
$$;
COMMENT ON FUNCTION bank.admin_verify_kyc(bigint, bigint) IS
'Sets a user''s kyc_status to verified and logs it (action verified_user, before and after); returns the log entry.';
