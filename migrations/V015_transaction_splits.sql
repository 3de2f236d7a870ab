-- V015: split transactions (issue 15, section 1).
--
-- One bank transaction (a supermarket receipt) spread over several categories. The lines live in
-- a table of their own, keyed by the transaction's full key and a line number; the bank's row is
-- never changed (its amount, category and kind stay as the bank sent them), so balances, daily
-- flows, import de-duplication and transfers do not know about splits. Only the monthly totals
-- (and the budgets they feed) count a split transaction by its lines' categories instead of its
-- own: functions/bank.tg_transaction_splits__totals.sql.j2 and the totals trigger of transactions.
--
-- The lines sum exactly to the transaction's amount. That is checked at COMMIT (a deferred
-- constraint trigger on the lines and on the transaction's amount, date and kind,
-- functions/bank.tg__check_split_sum.sql), so that the parent and its lines can change in one
-- transaction in any order; a mismatch is BKSP1, naming both sums.
--
-- As bank.transaction_tags (V012 says why), the lines have no foreign key to the partitioned
-- bank.transactions: a trigger checks the transaction as the key would (23503
-- transaction_splits_user_id_txn_date_transaction_id_fkey), and statement triggers on
-- transactions delete the lines of deleted transactions and move them with a transaction whose
-- date changes (functions/bank.tg_transactions__splits.sql.j2).
CREATE TABLE bank.transaction_splits (
    user_id bigint NOT NULL,
    txn_date date NOT NULL,
    transaction_id bigint NOT NULL,
    line_no smallint NOT NULL,
    category text NOT NULL,
    amount numeric NOT NULL,
    note text,
    base_amount numeric NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transaction_splits_pkey PRIMARY KEY (user_id, txn_date, transaction_id, line_no),
    CONSTRAINT transaction_splits_category_fkey FOREIGN KEY (category)
    REFERENCES bank.category_master (name) ON UPDATE CASCADE,
    CONSTRAINT transaction_splits_line_no_check CHECK (line_no BETWEEN 1 AND 100),
    CONSTRAINT transaction_splits_amount_check CHECK (amount > 0),
    CONSTRAINT transaction_splits_amount_finite_check CHECK (amount < 'Infinity'),
    CONSTRAINT transaction_splits_base_amount_finite_check CHECK (
        base_amount > '-Infinity' AND base_amount < 'Infinity'
    ),
    CONSTRAINT transaction_splits_note_check CHECK (char_length(note) <= 200)
);
COMMENT ON TABLE bank.transaction_splits IS
'The lines of a split transaction: each a category and a positive amount, summing exactly to the transaction''s '
'amount (checked at COMMIT, BKSP1). Keyed by the transaction''s full key (user_id, txn_date, transaction_id); '
'the monthly totals and budgets count a split transaction by its lines. Only regular transactions (BKSP2).';
COMMENT ON COLUMN bank.transaction_splits.txn_date IS
'The transaction''s txn_date (part of its key); follows the transaction when its date changes.';
COMMENT ON COLUMN bank.transaction_splits.transaction_id IS 'The split transaction (bank.transactions.id).';
COMMENT ON COLUMN bank.transaction_splits.amount IS
'In the transaction''s currency, at its scale; the lines of a transaction sum to its amount.';
COMMENT ON COLUMN bank.transaction_splits.base_amount IS
'The line''s share of the transaction''s base_amount: base_amount * amount / (sum of the lines'' amounts), rounded '
'half away from zero to its scale; the rounding remainder goes to the largest line (the lowest line_no of equal '
'ones), so the lines'' base amounts sum exactly to the transaction''s. Set by a trigger.';
