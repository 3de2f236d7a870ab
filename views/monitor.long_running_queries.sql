CREATE OR REPLACE VIEW monitor.long_running_queries AS
SELECT
    a.pid,
    a.usename AS user_name,
    a.application_name,
    a.state,
    now() - coalesce(a.query_start, a.xact_start) AS running_for,
    a.wait_event_type,
    a.wait_event,
    a.query
FROM pg_catalog.pg_stat_activity AS a
WHERE a.backend_type = 'client backend' AND a.state <> 'idle' AND a.pid <> pg_backend_pid();
COMMENT ON VIEW monitor.long_running_queries IS
'Statements and transactions under way, longest first: WHERE running_for > interval ''1 minute''.';
