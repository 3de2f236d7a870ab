CREATE OR REPLACE VIEW monitor.partition_sizes AS
SELECT
    c.relname AS partition_name,
    pg_get_expr(c.relpartbound, c.oid) AS bounds,
    pg_total_relation_size(c.oid) AS total_bytes,
    pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
    greatest(c.reltuples, 0)::bigint AS estimated_rows
FROM pg_catalog.pg_inherits AS i
INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
WHERE i.inhparent = 'bank.transactions'::regclass;
COMMENT ON VIEW monitor.partition_sizes IS 'The monthly partitions of bank.transactions: bounds, size, estimated rows.';
