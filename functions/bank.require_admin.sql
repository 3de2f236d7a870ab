-- Admin actions act for a user flagged is_admin, who is named in the audit trail.
CREATE OR REPLACE FUNCTION bank.require_admin(p_admin_id bigint)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF NOT coalesce((SELECT u.is_admin FROM bank.users AS u WHERE u.id = p_admin_id), FALSE) THEN
        RAISE EXCEPTION 'user (id=%) is not an admin', p_admin_id USING ERRCODE = 'BKAD1';
    END IF;
END;
$$;
COMMENT ON FUNCTION bank.require_admin(bigint) IS 'Raises BKAD1 unless p_admin_id is a user with is_admin.';
