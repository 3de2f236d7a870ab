-- What a foreign key from bank.transaction_splits to bank.transactions would check (V012 and V015
-- say why there is none): the split transaction exists under the line's full key. Its row is
-- locked (FOR SHARE, below why), so a concurrent DELETE or date change waits for this transaction
-- and then takes the new line with it (bank.tg_transactions__splits). Also
-- what only the transaction tells: it must be regular (a transfer or a payment is no spending to
-- split: BKSP2), and the line's amount must be at the transaction's currency's scale
-- (transaction_splits_amount_scale_check). An AFTER trigger, as the key's check is: row-level
-- security's WITH CHECK has refused a line for another user (42501) before it runs. Not SECURITY
-- DEFINER: an application sees only its acting user's transactions, so another user's transaction
-- is refused as one that does not exist, and nothing tells the two apart.
CREATE OR REPLACE FUNCTION bank.tg_transaction_splits__check_transaction()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_kind bank.txn_kind;
    v_currency text;
    v_minor_unit smallint;
BEGIN
    -- FOR SHARE, not only the key's KEY SHARE: the lines' totals trigger reads the transaction's
    -- base amount, so a concurrent change of its amount waits for this transaction, or this line
    -- for that change, and the later one counts with what the earlier one committed (two sessions
    -- writing a line and its transaction's amount each in the other order may deadlock instead:
    -- 40P01, nothing half-done, retried as any).
    IF TG_OP = 'DELETE' THEN
        PERFORM
        FROM bank.transactions AS t
        WHERE t.user_id = OLD.user_id AND t.txn_date = OLD.txn_date AND t.id = OLD.transaction_id
        FOR SHARE;
        RETURN NULL;
    END IF;
    -- The lock alone, then the lookup: Citus routes a locking read of one shard, not one joined
    -- with a reference table.
    SELECT t.kind, t.currency INTO v_kind, v_currency
    FROM bank.transactions AS t
    WHERE t.user_id = NEW.user_id AND t.txn_date = NEW.txn_date AND t.id = NEW.transaction_id
    FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "transaction_splits" violates foreign key constraint "%"',
            'transaction_splits_user_id_txn_date_transaction_id_fkey'
            USING
                ERRCODE = 'foreign_key_violation',
                SCHEMA = 'bank',
                TABLE = 'transaction_splits',
                CONSTRAINT = 'transaction_splits_user_id_txn_date_transaction_id_fkey',
                DETAIL = format(
                    'Key (user_id, txn_date, transaction_id)=(%s, %s, %s) is not present in table "transactions".',
                    NEW.user_id, NEW.txn_date, NEW.transaction_id
                );
    END IF;
    -- A new line only: a line moved with its transaction, or changed, when the transaction has
    -- meanwhile stopped being regular is refused at COMMIT (bank.tg__check_split_sum).
    IF TG_OP = 'INSERT' AND v_kind <> 'regular' THEN
        RAISE EXCEPTION 'transaction_splits_regular_check: transaction % is a % transaction, only regular ones can be split',
            NEW.transaction_id, v_kind
            USING
                ERRCODE = 'BKSP2',
                HINT = 'Transfers and card or loan payments count as no spending or income: there is nothing to split.';
    END IF;
    SELECT c.minor_unit INTO v_minor_unit FROM bank.currencies AS c WHERE c.code = v_currency;
    PERFORM bank.at_currency_scale(NEW.amount, v_minor_unit, v_currency, 'transaction_splits', 'amount');
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_transaction_splits__check_transaction() IS
'AFTER INSERT, UPDATE and DELETE row trigger of bank.transaction_splits: locks the transaction FOR SHARE; it '
'(user_id, txn_date, transaction_id) must exist (and be visible to the writer), else 23503 '
'transaction_splits_user_id_txn_date_transaction_id_fkey; '
'a new line''s must be regular (BKSP2); the amount at its currency''s scale '
'(23514 transaction_splits_amount_scale_check).';

CREATE OR REPLACE TRIGGER _200_check_transaction AFTER INSERT OR DELETE ON bank.transaction_splits
FOR EACH ROW EXECUTE FUNCTION bank.tg_transaction_splits__check_transaction();
-- Not for a line given its new share only (bank.tg_transactions__splits sets txn_date as it was).
CREATE OR REPLACE TRIGGER _200_check_transaction_update
AFTER UPDATE OF user_id, txn_date, transaction_id, amount, category ON bank.transaction_splits
FOR EACH ROW
WHEN (
    old.user_id <> new.user_id OR old.txn_date <> new.txn_date OR old.transaction_id <> new.transaction_id
    OR old.amount <> new.amount OR old.category <> new.category
)
EXECUTE FUNCTION bank.tg_transaction_splits__check_transaction();
