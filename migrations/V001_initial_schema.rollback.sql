-- Undo V001. Everything V001 created lives in the schemas bank and api, and later migrations
-- are rolled back before this one, so nothing else can depend on them.
-- Its partitions go with it.
DROP TABLE bank.transactions;
DROP TABLE bank.accounts;
DROP TABLE bank.users;
DROP TABLE bank.category_master;
DROP TABLE bank.exchange_rates;
DROP TABLE bank.currencies;
DROP SEQUENCE bank.transfer_id_seq;
DROP TYPE bank.txn_kind;
DROP TYPE bank.txn_type;
DROP TYPE bank.account_type;
DROP TYPE bank.kyc_status;
-- Functions from functions/ live here too; they are re-applied by the next migrate.
DROP SCHEMA bank_partitions;
DROP SCHEMA api CASCADE;
DROP SCHEMA bank CASCADE;
