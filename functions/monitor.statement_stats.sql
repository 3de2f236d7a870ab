-- pg_stat_statements, when it is installed (it needs shared_preload_libraries and a superuser's
-- CREATE EXTENSION): found wherever its schema is, and no rows when it is not there.
CREATE OR REPLACE FUNCTION monitor.statement_stats()
RETURNS TABLE (query text, calls bigint, mean_exec_ms double precision, total_exec_ms double precision, rows bigint)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_schema text;
BEGIN
    SELECT n.nspname INTO v_schema
    FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_stat_statements';
    IF v_schema IS NOT NULL THEN
        -- mean_exec_time, as PostgreSQL 13 renamed the seed's mean_time.
        RETURN QUERY EXECUTE format(
            'SELECT query, calls, mean_exec_time, total_exec_time, rows FROM %I.pg_stat_statements', v_schema
        );
    END IF;
EXCEPTION
    -- Created but not preloaded: no statistics to show (and only superusers may read the setting).
    WHEN object_not_in_prerequisite_state THEN
        RETURN;
END;
$$;
COMMENT ON FUNCTION monitor.statement_stats() IS
'The rows of pg_stat_statements (query, calls, mean and total execution time in ms, rows), or none when the '
'extension is not installed.';
