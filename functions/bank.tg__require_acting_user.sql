-- An application (a member of bank_app) writes only while acting for a user; without one, an
-- UPDATE or DELETE would silently touch no row under row-level security. This says why instead.
CREATE OR REPLACE FUNCTION bank.tg__require_acting_user()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF api.current_user_id() IS NULL
        AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user)
        AND pg_has_role(current_user, 'bank_app', 'MEMBER') THEN
        RAISE EXCEPTION 'no acting user: call api.set_user(user_id) in this transaction before writing %.%',
            TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'BKUS1';
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg__require_acting_user() IS
'BEFORE INSERT OR UPDATE OR DELETE statement trigger: a bank_app member with no acting user gets BKUS1.';

-- Its triggers are made with the policies, per table, in security/privileges.sql.j2.
