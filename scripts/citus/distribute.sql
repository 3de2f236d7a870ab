-- Distribute bankdb on a Citus cluster: `bankdb distribute` runs this on the coordinator, one
-- statement at a time, after a migrate, then applies every repeatable script again rendered for
-- Citus (policies without subqueries, triggers on the distributed tables). Idempotent: a table
-- already distributed is left alone, and a database already distributed goes through unchanged.
-- Tables without a tenant column that many tables reference become reference tables (copied to
-- every worker); every user-owned table is hash-distributed by user_id in one co-location group,
-- so a user's rows, and the joins and foreign keys between them, stay on one worker.
-- tests/migrations/test_citus_ready.py checks this list against the catalog.
--
-- Before the first table moves, the policies, triggers and foreign keys of schema bank are taken
-- off (the foreign keys kept in a temporary table): Citus refuses policies on the tables a
-- foreign key to a reference table turns into Citus local tables, and cannot turn a partitioned
-- table with partitions into one; and the triggers would fire again on every row copied into a
-- shard (monthly totals counted twice). The foreign keys come back after; the policies and
-- triggers come back with the repeatable scripts.
CREATE TEMPORARY TABLE distribute_foreign_keys AS
SELECT
    c.conrelid::regclass::text AS table_name,
    c.conname AS constraint_name,
    pg_catalog.pg_get_constraintdef(c.oid) AS definition
FROM pg_catalog.pg_constraint AS c
WHERE
    c.contype = 'f' AND c.connamespace = 'bank'::regnamespace AND c.conparentid = 0
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_dist_partition AS p
        WHERE p.logicalrelid = 'bank.accounts'::regclass
    );

DO $$
DECLARE
    v_command text;
BEGIN
    FOR v_command IN
        SELECT format('DROP POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename)
        FROM pg_catalog.pg_policies AS p WHERE p.schemaname = 'bank'
        UNION ALL
        SELECT format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass)
        FROM pg_catalog.pg_trigger AS t
        JOIN pg_catalog.pg_class AS r ON r.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND r.relnamespace = 'bank'::regnamespace
        UNION ALL
        SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', f.table_name, f.constraint_name)
        FROM pg_temp.distribute_foreign_keys AS f
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid = 'bank.accounts'::regclass)
            THEN EXECUTE v_command;
        END IF;
    END LOOP;
END;
$$;

-- Reference tables: the lookups, the users, the audit trail.
SELECT create_reference_table('bank.currencies')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.currencies'::regclass
);
SELECT create_reference_table('bank.category_master')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.category_master'::regclass
);
SELECT create_reference_table('bank.exchange_rates')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.exchange_rates'::regclass
);
SELECT create_reference_table('bank.users')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.users'::regclass
);
SELECT create_reference_table('bank.admin_logs')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.admin_logs'::regclass
);

-- Distributed by user_id, co-located with accounts.
SELECT create_distributed_table('bank.accounts', 'user_id')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.accounts'::regclass
);
SELECT create_distributed_table('bank.category_rules', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.category_rules'::regclass
);
SELECT create_distributed_table('bank.transactions', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.transactions'::regclass
);
SELECT create_distributed_table('bank.monthly_totals', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.monthly_totals'::regclass
);
SELECT create_distributed_table('bank.daily_flows', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.daily_flows'::regclass
);
SELECT create_distributed_table('bank.account_balances', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.account_balances'::regclass
);
SELECT create_distributed_table('bank.budgets', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.budgets'::regclass
);
SELECT create_distributed_table('bank.bills', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.bills'::regclass
);
SELECT create_distributed_table('bank.rewards', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.rewards'::regclass
);
SELECT create_distributed_table('bank.reward_entries', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.reward_entries'::regclass
);
SELECT create_distributed_table('bank.alerts', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.alerts'::regclass
);
SELECT create_distributed_table('bank.import_batches', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.import_batches'::regclass
);
SELECT create_distributed_table('bank.transaction_external_ids', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.transaction_external_ids'::regclass
);
SELECT create_distributed_table('bank.statements', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.statements'::regclass
);
SELECT create_distributed_table('bank.recurring_candidates', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.recurring_candidates'::regclass
);
-- Tags (V012): the tags before the links that point at them.
SELECT create_distributed_table('bank.tags', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.tags'::regclass
);
SELECT create_distributed_table('bank.transaction_tags', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.transaction_tags'::regclass
);
-- Split lines (V015).
SELECT create_distributed_table('bank.transaction_splits', 'user_id', colocate_with => 'bank.accounts')
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = 'bank.transaction_splits'::regclass
);

-- The foreign keys again. Citus cannot keep ON DELETE SET NULL (category_rule_id) with the
-- distribution key in the key: on Citus that one refuses (NO ACTION) deleting a rule that still
-- categorises a transaction, rather than leave the id dangling.
DO $$
DECLARE
    v_key record;
BEGIN
    FOR v_key IN SELECT * FROM pg_temp.distribute_foreign_keys ORDER BY table_name, constraint_name LOOP
        EXECUTE format(
            'ALTER TABLE %s ADD CONSTRAINT %I %s', v_key.table_name, v_key.constraint_name,
            replace(v_key.definition, ' ON DELETE SET NULL (category_rule_id)', '')
        );
    END LOOP;
END;
$$;

DROP TABLE pg_temp.distribute_foreign_keys;
