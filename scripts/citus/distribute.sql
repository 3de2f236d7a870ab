-- Distribute bankdb on a Citus cluster, run on the coordinator after `bankdb migrate` (with the
-- citus extension created). Following the Citus documentation: tables without a tenant column
-- that many tables reference become reference tables (copied to every worker); every user-owned
-- table is hash-distributed by user_id in one co-location group, so a user's rows, and the joins
-- and foreign keys between them, stay on one worker. Reference tables go first: distributed
-- tables' foreign keys point at them. Distributed tables go in foreign-key order.
-- tests/migrations/test_citus_ready.py checks this list against the catalog.

-- Reference tables: the lookups, the users, the audit trail.
SELECT create_reference_table('bank.currencies');
SELECT create_reference_table('bank.category_master');
SELECT create_reference_table('bank.exchange_rates');
SELECT create_reference_table('bank.users');
SELECT create_reference_table('bank.admin_logs');

-- Distributed by user_id, co-located with accounts.
SELECT create_distributed_table('bank.accounts', 'user_id');
SELECT create_distributed_table('bank.category_rules', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.transactions', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.monthly_totals', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.budgets', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.bills', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.rewards', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.reward_entries', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.alerts', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.import_batches', 'user_id', colocate_with => 'bank.accounts');
SELECT create_distributed_table('bank.transaction_external_ids', 'user_id', colocate_with => 'bank.accounts');
