-- Undo V005: the objects go back to the login that runs the rollback, every privilege and policy
-- given to the bank roles in this database goes, and PUBLIC may connect again. A role is dropped
-- only when no other database of the cluster still uses it (roles are cluster-wide).
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner IN SCHEMA bank_partitions REVOKE SELECT ON TABLES FROM bank_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner GRANT EXECUTE ON FUNCTIONS TO public;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner GRANT USAGE ON TYPES TO public;

DO $$
DECLARE
    v_role text;
BEGIN
    EXECUTE format('REASSIGN OWNED BY bank_owner TO %I', session_user);
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
    -- One role at a time: DROP OWNED BY several roles stumbles on an entry naming two of them.
    FOREACH v_role IN ARRAY ARRAY[
        'bank_app', 'bank_admin', 'bank_readonly', 'bank_backup', 'bank_migrator', 'bank_owner'
    ] LOOP
        EXECUTE format('DROP OWNED BY %I', v_role);
    END LOOP;
    FOREACH v_role IN ARRAY ARRAY[
        'bank_app', 'bank_admin', 'bank_readonly', 'bank_backup', 'bank_migrator', 'bank_owner'
    ] LOOP
        IF EXISTS (
            SELECT FROM pg_catalog.pg_shdepend AS d
            WHERE d.refclassid = 'pg_authid'::regclass
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = v_role)
        ) THEN
            RAISE NOTICE 'role % is kept: another database of this cluster still uses it', v_role;
        ELSE
            EXECUTE format('DROP ROLE %I', v_role);
        END IF;
    END LOOP;
END;
$$;
