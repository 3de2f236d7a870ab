-- The first month bank.transactions still holds (its oldest partition). Totals of earlier months
-- stay when their partitions are archived: nothing is recomputed or verified before this month.
CREATE OR REPLACE FUNCTION bank.transaction_history_start()
RETURNS date
LANGUAGE sql
STABLE
AS $$
    -- Partitions are named transactions_YYYY_MM by bank.create_transaction_partitions.
    SELECT min(to_date(substr(c.relname, length('transactions_') + 1), 'YYYY_MM'))
    FROM pg_catalog.pg_inherits AS i
    JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'bank.transactions'::regclass AND c.relname ~ '^transactions_[0-9]{4}_[0-9]{2}$'
$$;
COMMENT ON FUNCTION bank.transaction_history_start() IS
'The first day of the oldest month with a partition of bank.transactions; NULL when there is none.';
