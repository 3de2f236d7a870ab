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

-- Every table with row-level security (tests/security checks none is missed).
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.users
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.accounts
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.transactions
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.budgets
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.monthly_totals
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.category_rules
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.bills
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.rewards
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.reward_entries
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
CREATE OR REPLACE TRIGGER _050_require_acting_user BEFORE INSERT OR UPDATE OR DELETE ON bank.alerts
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__require_acting_user();
