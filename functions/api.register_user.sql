-- Sign-up: an application creates a user it cannot see yet (row-level security shows it only the
-- acting user's row), and gets the new id back to act for.
-- SECURITY DEFINER: bank_app has no INSERT on bank.users; this is the one way in.
CREATE OR REPLACE FUNCTION api.register_user(
    p_name text, p_email text, p_password_hash text, p_phone text DEFAULT NULL, p_base_currency text DEFAULT 'USD'
)
RETURNS bigint
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO bank.users (name, email, password, phone, base_currency)
    VALUES (p_name, p_email, p_password_hash, p_phone, p_base_currency)
    RETURNING id
$$;
COMMENT ON FUNCTION api.register_user(text, text, text, text, text) IS
'Creates a user (the password as a bcrypt hash) and returns its id; the constraints of bank.users apply.';
