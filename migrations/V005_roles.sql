-- V005: the roles, and bank_owner as the owner of every object. Grants and row-level security
-- live in security/ (applied after every migration); logins are created by a DBA (README).
--
-- Roles are cluster-wide: a second database migrated in the same cluster finds them made, so each
-- is created only when missing. They are group roles (NOLOGIN); people and services log in as
-- members. Creating them needs CREATEROLE.

DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY[
        'bank_owner', 'bank_migrator', 'bank_app', 'bank_admin', 'bank_readonly', 'bank_backup'
    ] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', v_role);
        END IF;
    END LOOP;
END;
$$;

COMMENT ON ROLE bank_owner IS 'Owns every bankdb object. Nobody logs in as it; bank_migrator members become it.';
COMMENT ON ROLE bank_migrator IS 'What a DBA logs in as (through a member login) to run bankdb migrate.';
COMMENT ON ROLE bank_app IS
'Applications: DML under row-level security for the user set by api.set_user(); no DDL, no TRUNCATE.';
COMMENT ON ROLE bank_admin IS
'Admin console: reads every user; changes only through the audited bank.admin_* functions.';
COMMENT ON ROLE bank_readonly IS 'Reporting: SELECT on the api views, for the user set by api.set_user().';
COMMENT ON ROLE bank_backup IS 'Backups: reads every row (pg_dump --enable-row-security).';

-- The migrator becomes the owner to create objects (bankdb migrate does SET ROLE bank_owner).
GRANT bank_owner TO bank_migrator;

-- Everything made so far changes hands. Identity sequences follow their tables.
DO $$
DECLARE
    v_object record;
BEGIN
    FOR v_object IN
        SELECT format('ALTER SCHEMA %I OWNER TO bank_owner', n.nspname) AS command
        FROM pg_catalog.pg_namespace AS n
        WHERE n.nspname IN ('bank', 'api', 'bank_partitions')
        UNION ALL
        SELECT format(
            'ALTER %s %I.%I OWNER TO bank_owner',
            CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END,
            n.nspname, c.relname
        )
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('bank', 'api', 'bank_partitions')
            AND c.relkind IN ('r', 'p', 'v', 'S')
            AND NOT (
                c.relkind = 'S' AND EXISTS (
                    SELECT FROM pg_catalog.pg_depend AS d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i'
                )
            )
        UNION ALL
        SELECT format('ALTER TYPE %I.%I OWNER TO bank_owner', n.nspname, t.typname)
        FROM pg_catalog.pg_type AS t
        JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
        WHERE n.nspname IN ('bank', 'api') AND t.typtype = 'e'
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO bank_owner', p.oid::regprocedure)
        FROM pg_catalog.pg_proc AS p
        JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('bank', 'api')
    LOOP
        EXECUTE v_object.command;
    END LOOP;
END;
$$;

-- Nothing for PUBLIC, now or for objects bank_owner makes later.
REVOKE ALL ON SCHEMA bank, api, bank_partitions FROM public;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner REVOKE EXECUTE ON FUNCTIONS FROM public;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner REVOKE USAGE ON TYPES FROM public;
-- Partitions made later (bank.create_transaction_partitions) can be dumped like the first ones.
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner IN SCHEMA bank_partitions GRANT SELECT ON TABLES TO bank_backup;
DO $$
BEGIN
    -- The database itself: CONNECT and TEMPORARY go to the bank roles only; bank_owner may add
    -- schemas in later migrations.
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CREATE ON DATABASE %I TO bank_owner', current_database());
    EXECUTE format(
        'GRANT CONNECT ON DATABASE %I TO bank_migrator, bank_app, bank_admin, bank_readonly, bank_backup',
        current_database()
    );
END;
$$;
