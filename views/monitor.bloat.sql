CREATE OR REPLACE VIEW monitor.bloat AS
SELECT
    s.schemaname AS schema_name,
    s.relname AS table_name,
    s.n_live_tup AS live_rows,
    s.n_dead_tup AS dead_rows,
    round(100.0 * s.n_dead_tup / nullif(s.n_live_tup + s.n_dead_tup, 0), 1) AS dead_percent,
    s.last_autovacuum,
    s.last_vacuum
FROM pg_catalog.pg_stat_user_tables AS s
WHERE s.schemaname IN ('bank', 'bank_partitions', 'bankdb');
COMMENT ON VIEW monitor.bloat IS
'An estimate of bloat: dead rows not yet vacuumed, as a share of all rows, per table.';
