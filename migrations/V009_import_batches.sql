-- V009: statement imports (issue 13). A file or feed is imported as one batch by
-- api.import_transactions / api.import_staged (functions/), set-based, for the acting user.
--
-- bank.import_batches records each batch: where it came from, the file's checksum (unique per
-- account, so the same file is never imported twice), its counts and its rejections. Each
-- transaction it wrote carries its id (transactions.import_batch_id), so it can be undone as a whole.
--
-- bank.transaction_external_ids holds every bank id (transactions.external_id) once per account.
-- The transactions' own unique key must include txn_date (the partition key), so it lets the same
-- bank id in again under another booking date; this table's key does not. It is kept by the
-- import and by a statement trigger for direct writes (functions/bank.tg_transactions__external_ids.sql).
--
-- No foreign key from transactions to the batches: on the partitioned table it would be validated
-- by a scan of every partition under a lock that blocks writes (NOT VALID is refused there before
-- PostgreSQL 18). Only the import writes import_batch_id (bank_app has no privilege on the column),
-- and undo deletes a batch's transactions before the batch. No index on it either: every insert
-- would pay for it, and undo (rare) finds the rows through the user's primary key.

CREATE TABLE bank.import_batches (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    source text NOT NULL,
    file_sha256 text,
    partial boolean NOT NULL,
    inserted_count integer NOT NULL DEFAULT 0,
    duplicate_count integer NOT NULL DEFAULT 0,
    rejected_count integer NOT NULL DEFAULT 0,
    rejections jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_batches_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT import_batches_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE,
    CONSTRAINT import_batches_file_sha256_key UNIQUE (user_id, account_id, file_sha256),
    CONSTRAINT import_batches_source_check CHECK (char_length(btrim(source)) BETWEEN 1 AND 200),
    CONSTRAINT import_batches_file_sha256_check CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT import_batches_counts_check CHECK (
        inserted_count >= 0 AND duplicate_count >= 0 AND rejected_count >= 0
    ),
    CONSTRAINT import_batches_rejections_check CHECK (jsonb_typeof(rejections) = 'array')
);
COMMENT ON TABLE bank.import_batches IS
'One row per import (api.import_transactions, api.import_staged, bankdb import): its source, counts and '
'rejections. api.undo_import removes a batch with the transactions it wrote.';
COMMENT ON COLUMN bank.import_batches.source IS
'Where the rows came from, as the caller names it (bankdb import: the format and the file name).';
COMMENT ON COLUMN bank.import_batches.file_sha256 IS
'The imported file''s SHA-256 (lower-case hex), unique per account: the same file is refused a second time. '
'NULL when the rows came from no file.';
COMMENT ON COLUMN bank.import_batches.partial IS
'true: the valid rows were imported and the rejected ones reported; false: all or none (a rejection refuses the call).';
COMMENT ON COLUMN bank.import_batches.duplicate_count IS
'Rows already in the account (same bank id, or same fingerprint occurring as often), not imported again.';
COMMENT ON COLUMN bank.import_batches.rejections IS
'One object per rejected row: {"row": n, "rule": name, "value": offending value, "message": text}.';

CREATE TABLE bank.transaction_external_ids (
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    external_id text NOT NULL,
    transaction_id bigint NOT NULL,
    CONSTRAINT transaction_external_ids_pkey PRIMARY KEY (user_id, account_id, external_id),
    CONSTRAINT transaction_external_ids_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE bank.transaction_external_ids IS
'Each bank id (transactions.external_id) once per account, whatever its booking date: what import '
'de-duplication checks. Kept by the import and by a trigger on transactions; the ids of archived months stay, '
'so a statement imported again never brings an archived transaction back.';
COMMENT ON COLUMN bank.transaction_external_ids.transaction_id IS
'The transaction (bank.transactions.id) that holds the bank id.';

-- Nullable with no default: only the catalog changes, no row is rewritten.
ALTER TABLE bank.transactions ADD COLUMN import_batch_id bigint;
COMMENT ON COLUMN bank.transactions.import_batch_id IS
'The import batch (bank.import_batches.id, same user) that wrote the row; NULL for a direct write. '
'Written only by the import.';

-- Bank ids already stored. The old key let the same bank id in under two dates: the later row keeps it.
INSERT INTO bank.transaction_external_ids (user_id, account_id, external_id, transaction_id)
SELECT DISTINCT ON (t.user_id, t.account_id, t.external_id)
    t.user_id,
    t.account_id,
    t.external_id,
    t.id
FROM bank.transactions AS t
WHERE t.external_id IS NOT NULL
ORDER BY t.user_id ASC, t.account_id ASC, t.external_id ASC, t.txn_date DESC, t.id DESC;
