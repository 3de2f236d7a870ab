-- The periodic work, in one call for cron or pg_cron: partitions ahead, overdue bills, bill-due
-- alerts, and ANALYZE of tables whose statistics went stale. Returns what it did.
-- SECURITY DEFINER: it works across all users' rows and analyzes tables, as their owner.
CREATE OR REPLACE FUNCTION bank.run_maintenance(
    p_months_ahead integer DEFAULT NULL, p_bill_due_days integer DEFAULT 3, p_today date DEFAULT current_date
)
RETURNS TABLE (task text, result text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table text;
    -- NULL: the window bankdb migrate keeps too.
    v_months_ahead integer := coalesce(p_months_ahead, bank.partition_months_ahead());
BEGIN
    task := 'partitions';
    result := format(
        '%s created, through %s', bank.create_transaction_partitions(
            p_today, (date_trunc('month', p_today) + make_interval(months => v_months_ahead))::date
        ), to_char(date_trunc('month', p_today) + make_interval(months => v_months_ahead), 'YYYY-MM')
    );
    RETURN NEXT;
    task := 'overdue bills';
    result := format('%s marked overdue', bank.mark_overdue_bills(p_today));
    RETURN NEXT;
    task := 'bill-due alerts';
    result := format('%s raised', bank.raise_bill_due_alerts(p_bill_due_days, p_today));
    RETURN NEXT;
    -- Recurring payments, for the users with a debit dated since yesterday: a series changes when a
    -- payment arrives, and the users with none are not read again every hour.
    task := 'recurring payments';
    result := format('%s proposed', bank.find_recurring_candidates(NULL, p_today, p_today - 1));
    RETURN NEXT;
    -- Stale: more rows changed since the last ANALYZE than a tenth of the table (and at least 1000).
    FOR v_table IN
        SELECT format('%I.%I', s.schemaname, s.relname)
        FROM pg_catalog.pg_stat_user_tables AS s
        JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
        WHERE s.schemaname IN ('bank', 'bank_partitions')
            AND s.n_mod_since_analyze > greatest(1000, c.reltuples * 0.1)
        ORDER BY 1
    LOOP
        EXECUTE format('ANALYZE %s', v_table);
        task := 'analyze';
        result := v_table;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION bank.run_maintenance(integer, integer, date) IS
'Partitions for the months ahead (p_months_ahead; NULL: bank.partition_months_ahead()), overdue bills, '
'bill-due alerts, ANALYZE where statistics are stale. Run by bankdb maintain, or scheduled with pg_cron.';
