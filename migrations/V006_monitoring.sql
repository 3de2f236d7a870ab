-- V006: a schema for the views a DBA watches (views/monitor_*.sql). Readable by bank_admin and
-- bank_migrator; they show statistics and query texts, never to applications.
CREATE SCHEMA monitor;
COMMENT ON SCHEMA monitor IS
'Sizes, index usage, top statements, bloat, long-running queries and replication lag, for DBAs.';
