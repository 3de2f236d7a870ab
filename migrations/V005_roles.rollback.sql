-- Undo V005: the objects go back to the login that runs the rollback, every privilege, default
-- privilege and policy given to the bank roles in this database goes, and PUBLIC may connect
-- again. A role is dropped only when no other database of the cluster still uses it (roles are
-- cluster-wide).
--
-- Fixed after release (rollback files are read when run, not checksummed; issue 11, point 6): it
-- used DROP OWNED BY, which also revokes the role's privileges on shared objects, i.e. CONNECT on
-- every other database of the cluster, so a rollback here locked the applications out of the
-- others. Now each privilege of this database is revoked by name, and nothing outside it changes.
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner IN SCHEMA bank_partitions REVOKE SELECT ON TABLES FROM bank_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner GRANT EXECUTE ON FUNCTIONS TO public;
ALTER DEFAULT PRIVILEGES FOR ROLE bank_owner GRANT USAGE ON TYPES TO public;

DO $$
DECLARE
    v_roles text [] := ARRAY[
        'bank_app', 'bank_admin', 'bank_readonly', 'bank_backup', 'bank_migrator', 'bank_owner'
    ];
    v_role text;
    v_shared text;
    v_command text;
    v_commands text [];
    v_database oid := (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database());
BEGIN
    -- REASSIGN OWNED also hands over shared objects (a database, a tablespace) the role owns: refuse
    -- rather than give away something outside this database.
    SELECT string_agg(format('%s %s', d.classid::regclass, d.objid), ', ') INTO v_shared
    FROM pg_catalog.pg_shdepend AS d
    WHERE d.dbid = 0 AND d.deptype = 'o' AND d.refclassid = 'pg_authid'::regclass
        AND d.refobjid = ANY(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY(v_roles));
    IF v_shared IS NOT NULL THEN
        RAISE EXCEPTION 'a bank role owns a shared object (%): give it another owner first', v_shared
            USING ERRCODE = 'object_in_use';
    END IF;
    IF to_regrole('bank_owner') IS NOT NULL THEN
        EXECUTE format('REASSIGN OWNED BY bank_owner TO %I', session_user);
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());

    SELECT string_agg(DISTINCT d.classid::regclass::text, ', ') INTO v_shared
    FROM pg_catalog.pg_shdepend AS d
    WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'a' AND d.dbid = v_database
        AND d.refobjid = ANY(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY(v_roles))
        AND d.classid <> ALL(ARRAY[
            'pg_class', 'pg_namespace', 'pg_proc', 'pg_type', 'pg_database', 'pg_default_acl'
        ]::regclass []);
    IF v_shared IS NOT NULL THEN
        RAISE EXCEPTION 'a bank role holds privileges on objects of % that this rollback does not revoke: '
            'revoke them first', v_shared USING ERRCODE = 'object_in_use';
    END IF;

    -- What DROP OWNED BY did, for this database only. The commands are listed before any runs, so
    -- none sees the catalog half changed. Each privilege on an object of this database, or on this
    -- database itself (pg_shdepend 'a'), is revoked by name.
    SELECT coalesce(array_agg(format(
        'REVOKE ALL ON %s FROM %I',
        CASE d.classid
            WHEN 'pg_class'::regclass THEN CASE (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = d.objid)
                WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || d.objid::regclass::text
            WHEN 'pg_namespace'::regclass THEN 'SCHEMA ' || d.objid::regnamespace::text
            WHEN 'pg_proc'::regclass THEN 'ROUTINE ' || d.objid::regprocedure::text
            WHEN 'pg_type'::regclass THEN 'TYPE ' || d.objid::regtype::text
            WHEN 'pg_database'::regclass THEN 'DATABASE ' || quote_ident(current_database())
        END,
        r.rolname
    ) ORDER BY d.classid, d.objid, r.rolname), '{}') INTO v_commands
    FROM pg_catalog.pg_shdepend AS d
    JOIN pg_catalog.pg_roles AS r ON r.oid = d.refobjid
    WHERE d.refclassid = 'pg_authid'::regclass AND r.rolname = ANY(v_roles) AND d.deptype = 'a'
        AND d.classid <> 'pg_default_acl'::regclass
        AND (d.dbid = v_database OR d.dbid = 0 AND d.classid = 'pg_database'::regclass AND d.objid = v_database);
    -- Policies (pg_policy is this database's own catalog): narrowed to their other roles, or dropped.
    SELECT v_commands || coalesce(array_agg(
        CASE WHEN o.others IS NULL THEN format('DROP POLICY %I ON %s', p.polname, p.polrelid::regclass)
            ELSE format('ALTER POLICY %I ON %s TO %s', p.polname, p.polrelid::regclass, o.others) END
        ORDER BY p.polrelid, p.polname
    ), '{}') INTO v_commands
    FROM pg_catalog.pg_policy AS p
    CROSS JOIN LATERAL (
        SELECT string_agg(quote_ident(g.rolname), ', ') AS others
        FROM pg_catalog.pg_roles AS g
        WHERE g.oid = ANY(p.polroles) AND NOT g.rolname = ANY(v_roles)
    ) AS o
    WHERE EXISTS (SELECT FROM pg_catalog.pg_roles AS g WHERE g.oid = ANY(p.polroles) AND g.rolname = ANY(v_roles));
    -- Default privileges (also this database's own): a bank role's grants revoked; an entry a bank
    -- role owns reset to what PostgreSQL has without one, which removes it.
    SELECT v_commands || coalesce(array_agg(format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I%s %s %s ON %s %s %s',
        a.defaclrole::regrole,
        CASE WHEN a.defaclnamespace = 0 THEN '' ELSE format(' IN SCHEMA %I', a.defaclnamespace::regnamespace) END,
        CASE WHEN x.restore THEN 'GRANT' ELSE 'REVOKE' END,
        x.privilege,
        CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
            WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' ELSE 'LARGE OBJECTS' END,
        CASE WHEN x.restore THEN 'TO' ELSE 'FROM' END,
        x.grantee
    ) ORDER BY a.oid, x.restore, x.grantee), '{}') INTO v_commands
    FROM pg_catalog.pg_default_acl AS a
    CROSS JOIN LATERAL (
        SELECT FALSE AS restore, 'ALL' AS privilege,
            CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(e.grantee::regrole::text) END AS grantee
        FROM aclexplode(a.defaclacl) AS e
        WHERE a.defaclrole::regrole::text = ANY(v_roles) OR e.grantee::regrole::text = ANY(v_roles)
        GROUP BY e.grantee
        UNION ALL
        SELECT TRUE, g.privilege, g.grantee
        FROM (VALUES ('ALL', quote_ident(a.defaclrole::regrole::text)), ('EXECUTE', 'PUBLIC'), ('USAGE', 'PUBLIC'))
            AS g (privilege, grantee)
        WHERE a.defaclnamespace = 0 AND a.defaclrole::regrole::text = ANY(v_roles)
            AND (g.privilege = 'ALL' OR g.privilege = CASE a.defaclobjtype WHEN 'f' THEN 'EXECUTE' WHEN 'T' THEN 'USAGE' END)
    ) AS x
    WHERE a.defaclrole::regrole::text = ANY(v_roles)
        OR EXISTS (SELECT FROM aclexplode(a.defaclacl) AS e WHERE e.grantee::regrole::text = ANY(v_roles));
    FOREACH v_command IN ARRAY v_commands LOOP
        EXECUTE v_command;
    END LOOP;

    FOREACH v_role IN ARRAY v_roles LOOP
        IF EXISTS (
            SELECT FROM pg_catalog.pg_shdepend AS d
            WHERE d.refclassid = 'pg_authid'::regclass
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = v_role)
        ) THEN
            RAISE NOTICE 'role % is kept: another database of this cluster still uses it', v_role;
        ELSIF to_regrole(v_role) IS NOT NULL THEN
            EXECUTE format('DROP ROLE %I', v_role);
        END IF;
    END LOOP;
END;
$$;
