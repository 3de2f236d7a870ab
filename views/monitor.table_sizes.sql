CREATE OR REPLACE VIEW monitor.table_sizes AS
WITH leaves AS (
    -- Each table with its leaf partitions, or with itself when it is a plain table.
    SELECT
        c.oid AS table_oid,
        coalesce(tree.relid, c.oid) AS leaf_oid
    FROM pg_catalog.pg_class AS c
    LEFT JOIN LATERAL pg_partition_tree(c.oid) AS tree ON tree.isleaf
    WHERE
        c.relnamespace IN ('bank'::regnamespace, 'bankdb'::regnamespace)
        AND c.relkind IN ('r', 'p')
        AND NOT c.relispartition
)

SELECT
    c.relnamespace::regnamespace::text AS schema_name,
    c.relname AS table_name,
    c.relkind = 'p' AS partitioned,
    sum(pg_total_relation_size(l.leaf_oid))::bigint AS total_bytes,
    pg_size_pretty(sum(pg_total_relation_size(l.leaf_oid))) AS total_size,
    sum(pg_indexes_size(l.leaf_oid))::bigint AS index_bytes,
    sum(greatest(x.reltuples, 0))::bigint AS estimated_rows
FROM leaves AS l
INNER JOIN pg_catalog.pg_class AS c ON l.table_oid = c.oid
INNER JOIN pg_catalog.pg_class AS x ON l.leaf_oid = x.oid
GROUP BY c.oid, c.relnamespace, c.relname, c.relkind;
COMMENT ON VIEW monitor.table_sizes IS
'Each table with its partitions summed: total and index bytes, estimated rows. ORDER BY total_bytes DESC.';
