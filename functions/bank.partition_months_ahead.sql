-- The window of monthly partitions kept ready after the current month: one number for bankdb
-- migrate (seeds/partitions_ahead.sql, after every run) and bank.run_maintenance (bankdb maintain,
-- pg_cron), so the two never disagree about which months exist.
CREATE OR REPLACE FUNCTION bank.partition_months_ahead()
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$ SELECT 3 $$;
COMMENT ON FUNCTION bank.partition_months_ahead() IS
'How many months after the current one must have a partition of bank.transactions (3): kept by '
'bankdb migrate and bank.run_maintenance, so a write dated up to then always finds its partition.';
