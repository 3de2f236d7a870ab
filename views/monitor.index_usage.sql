CREATE OR REPLACE VIEW monitor.index_usage AS
SELECT
    s.schemaname AS schema_name,
    s.relname AS table_name,
    s.indexrelname AS index_name,
    s.idx_scan AS scans,
    pg_relation_size(s.indexrelid) AS bytes,
    i.indisunique AS is_unique,
    s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AS unused
FROM pg_catalog.pg_stat_user_indexes AS s
INNER JOIN pg_catalog.pg_index AS i ON s.indexrelid = i.indexrelid
WHERE s.schemaname IN ('bank', 'bank_partitions', 'bankdb');
COMMENT ON VIEW monitor.index_usage IS
'Scans per index since statistics were reset; unused = never scanned and enforcing nothing (not unique).';
