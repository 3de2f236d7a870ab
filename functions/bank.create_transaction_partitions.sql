-- Monthly partitions of bank.transactions, named bank_partitions.transactions_YYYY_MM.
-- SECURITY DEFINER: partitions belong to bank_owner whoever runs the maintenance.
-- EXECUTE is not granted to applications.
CREATE OR REPLACE FUNCTION bank.create_transaction_partitions(p_from date, p_to date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
STRICT
AS $$
DECLARE
    v_month date := date_trunc('month', p_from)::date;
    v_created integer := 0;
    v_name text;
    v_index record;
BEGIN
    IF p_from > p_to THEN
        RAISE EXCEPTION 'partition range starts after it ends (from %, to %)', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to >= p_from + interval '100 years' THEN
        RAISE EXCEPTION 'partition range over 100 years (from %, to %): surely a mistake', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE v_month <= p_to LOOP
        v_name := format('transactions_%s', to_char(v_month, 'YYYY_MM'));
        IF to_regclass(format('bank_partitions.%I', v_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE bank_partitions.%I PARTITION OF bank.transactions FOR VALUES FROM (%L) TO (%L)',
                v_name, v_month, (v_month + interval '1 month')::date
            );
            EXECUTE format(
                'COMMENT ON TABLE bank_partitions.%I IS %L', v_name,
                format('Transactions of %s (a partition of bank.transactions).', to_char(v_month, 'YYYY-MM'))
            );
            -- PostgreSQL names a partition's indexes itself (truncated, with the partition key appended);
            -- a duplicate key error names that index. Name each after its parent's index instead:
            -- transactions_pkey -> transactions_2025_03_pkey.
            FOR v_index IN
                SELECT child.relname AS child_name, parent.relname AS parent_name
                FROM pg_catalog.pg_inherits AS inh
                JOIN pg_catalog.pg_class AS child ON child.oid = inh.inhrelid
                JOIN pg_catalog.pg_class AS parent ON parent.oid = inh.inhparent
                JOIN pg_catalog.pg_index AS i ON i.indexrelid = child.oid
                WHERE
                    i.indrelid = format('bank_partitions.%I', v_name)::regclass
                    AND child.relname <> v_name || substr(parent.relname, length('transactions') + 1)
            LOOP
                EXECUTE format(
                    'ALTER INDEX bank_partitions.%I RENAME TO %I',
                    v_index.child_name, v_name || substr(v_index.parent_name, length('transactions') + 1)
                );
            END LOOP;
            v_created := v_created + 1;
        END IF;
        v_month := (v_month + interval '1 month')::date;
    END LOOP;
    RETURN v_created;
END;
$$;
COMMENT ON FUNCTION bank.create_transaction_partitions(date, date) IS
'Creates the missing monthly partitions of bank.transactions for every month from p_from to p_to '
'(both included); returns how many it created. Safe to call again.';
