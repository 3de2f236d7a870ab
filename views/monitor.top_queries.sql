CREATE OR REPLACE VIEW monitor.top_queries AS
SELECT
    s.query,
    s.calls,
    round(s.mean_exec_ms::numeric, 3) AS mean_exec_ms,
    round(s.total_exec_ms::numeric, 1) AS total_exec_ms,
    s.rows
FROM monitor.statement_stats() AS s;
COMMENT ON VIEW monitor.top_queries IS
'pg_stat_statements by statement (empty when it is not installed): ORDER BY mean_exec_ms DESC LIMIT 10.';
