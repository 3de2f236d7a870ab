-- V012: tags and search (issue 15, sections 2 and 3).
--
-- Tags are a user's free labels (#vacation-2026), many per transaction. bank.tags holds them, one
-- name per user whatever its case (tags_user_id_name_key, a unique index on lower(name));
-- bank.transaction_tags links a tag to a transaction by the transaction's full key (user_id,
-- txn_date, id). Tags never change totals: nothing reads them but the api views of tags.
--
-- The link has no foreign key to bank.transactions, as bank.transaction_external_ids has none:
-- a key referencing the partitioned table makes DETACH PARTITION fail while any row of that month
-- is tagged (bankdb maintain --keep-months archives months by detaching them), and Citus refuses
-- the ON UPDATE CASCADE a date change needs (the distribution key is in the key). Instead, a
-- trigger on the links refuses a transaction that is not the user's (in the foreign key's words,
-- 23503 transaction_tags_user_id_txn_date_transaction_id_fkey, holding a KEY SHARE lock on the
-- transaction as the key would), and statement triggers on transactions delete the links of
-- deleted transactions and move them with a transaction whose date changes
-- (functions/bank.tg_transaction_tags__check_transaction.sql, bank.tg_transactions__tags.sql).
-- The links of an archived month stay, as its bank ids do, so a month restored from its archive
-- has its tags again.
--
-- Search: pg_trgm's trigram GIN index over description and merchant, with user_id in the same
-- index (btree_gin) so that one user's matches are found without reading other users' ones.
-- Both extensions are trusted (bank_owner, which has CREATE on the database, creates them) and
-- ship with PostgreSQL, the embedded wheel and the Citus nodes (Citus creates them on the workers).
-- They live in schema ext, apart from bank's own functions: nothing there is granted to the
-- bank roles, and only bank_owner (api.search_transactions is SECURITY DEFINER) names them, always
-- schema-qualified, as the runner's search_path is pg_catalog.

-- IF NOT EXISTS: a DBA may have made them to build the search index beforehand (below).
CREATE SCHEMA IF NOT EXISTS ext;
COMMENT ON SCHEMA ext IS
'Extensions bankdb uses (pg_trgm, btree_gin). No USAGE for the bank roles: bankdb''s own functions name them.';
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA ext;
CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA ext;

CREATE TABLE bank.tags (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tags_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT tags_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT tags_name_check CHECK (char_length(name) BETWEEN 1 AND 50 AND name = btrim(name)),
    CONSTRAINT tags_name_visible_check CHECK (
        name ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
    )
);
-- One name per user whatever its case: #Vacation and #vacation are one tag. Also the lookup of a
-- tag by name (WHERE lower(name) = lower($1), or ON CONFLICT (user_id, lower(name))).
CREATE UNIQUE INDEX tags_user_id_name_key ON bank.tags (user_id, lower(name));
COMMENT ON TABLE bank.tags IS
'A user''s tags: free labels across categories, many per transaction (bank.transaction_tags). '
'The name is unique per user whatever its case (tags_user_id_name_key).';
COMMENT ON COLUMN bank.tags.name IS
'1 to 50 characters without leading or trailing spaces, shown as written; compared in lower case.';

CREATE TABLE bank.transaction_tags (
    user_id bigint NOT NULL,
    txn_date date NOT NULL,
    transaction_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transaction_tags_pkey PRIMARY KEY (user_id, txn_date, transaction_id, tag_id),
    CONSTRAINT transaction_tags_user_id_tag_id_fkey FOREIGN KEY (user_id, tag_id)
    REFERENCES bank.tags (user_id, id) ON DELETE CASCADE
);
-- A tag's transactions in date order (api.tagged_transactions: ORDER BY txn_date DESC, id DESC LIMIT n
-- walks it backwards and stops), its months (api.tag_monthly_totals); also serves the foreign key's
-- cascade when a tag is deleted.
CREATE INDEX transaction_tags_user_id_tag_id_txn_date_transaction_id_idx ON bank.transaction_tags (
    user_id, tag_id, txn_date, transaction_id
);
COMMENT ON TABLE bank.transaction_tags IS
'Which transactions carry which tags. Keyed by the transaction''s full key (user_id, txn_date, transaction_id); '
'a trigger refuses a transaction that is not the user''s, and triggers on transactions delete the links with '
'their transaction and move them when its date changes. Tags never change totals.';
COMMENT ON COLUMN bank.transaction_tags.txn_date IS
'The transaction''s txn_date (part of its key); follows the transaction when its date changes.';
COMMENT ON COLUMN bank.transaction_tags.transaction_id IS 'The tagged transaction (bank.transactions.id).';

-- Search. One GIN index over user_id and the text searched: description and merchant together, so
-- each insert adds one index entry set, not two. It is built here under a SHARE lock: writes to
-- transactions wait while it builds. On a large database a DBA builds it beforehand, without
-- blocking writes, with CREATE INDEX CONCURRENTLY on each partition, which this statement then
-- attaches instead of building (docs/schema.md#search-index).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX transactions_user_id_description_merchant_idx ON bank.transactions USING gin (
    user_id, (description || ' ' || coalesce(merchant, '')) ext.gin_trgm_ops
);

-- Each partition's index is named after its parent's, as bank.create_transaction_partitions names
-- those of new partitions (transactions_2025_03_user_id_description_merchant_idx).
DO $$
DECLARE
    v_index record;
BEGIN
    FOR v_index IN
        SELECT child.relname AS child_name, part.relname AS partition_name
        FROM pg_catalog.pg_inherits AS inh
        INNER JOIN pg_catalog.pg_class AS child ON inh.inhrelid = child.oid
        INNER JOIN pg_catalog.pg_index AS i ON child.oid = i.indexrelid
        INNER JOIN pg_catalog.pg_class AS part ON i.indrelid = part.oid
        WHERE
            inh.inhparent = 'bank.transactions_user_id_description_merchant_idx'::regclass
            AND child.relname <> part.relname || '_user_id_description_merchant_idx'
    LOOP
        EXECUTE format(
            'ALTER INDEX bank_partitions.%I RENAME TO %I',
            v_index.child_name, v_index.partition_name || '_user_id_description_merchant_idx'
        );
    END LOOP;
END;
$$;
