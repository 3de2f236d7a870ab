-- What a foreign key from bank.transaction_tags to bank.transactions would check, which V012 says
-- why it is not: the tagged transaction exists under the link's full key (user_id, txn_date,
-- transaction_id). Its row is locked FOR KEY SHARE, as the key's check locks it, so a concurrent
-- DELETE or date change waits for this transaction and then takes the new link with it
-- (bank.tg_transactions__tags). An AFTER trigger, as the key's check is: row-level security's
-- WITH CHECK has refused a row for another user (42501) before it runs. Not SECURITY DEFINER: an
-- application sees only its acting user's transactions, so another user's transaction is refused
-- as one that does not exist, and nothing tells the two apart.
CREATE OR REPLACE FUNCTION bank.tg_transaction_tags__check_transaction()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM
    FROM bank.transactions AS t
    WHERE t.user_id = NEW.user_id AND t.txn_date = NEW.txn_date AND t.id = NEW.transaction_id
    FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "transaction_tags" violates foreign key constraint "%"',
            'transaction_tags_user_id_txn_date_transaction_id_fkey'
            USING
                ERRCODE = 'foreign_key_violation',
                SCHEMA = 'bank',
                TABLE = 'transaction_tags',
                CONSTRAINT = 'transaction_tags_user_id_txn_date_transaction_id_fkey',
                DETAIL = format(
                    'Key (user_id, txn_date, transaction_id)=(%s, %s, %s) is not present in table "transactions".',
                    NEW.user_id, NEW.txn_date, NEW.transaction_id
                );
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_transaction_tags__check_transaction() IS
'AFTER INSERT OR UPDATE row trigger of bank.transaction_tags: the transaction (user_id, txn_date, transaction_id) '
'must exist (and be visible to the writer), else 23503 transaction_tags_user_id_txn_date_transaction_id_fkey.';

CREATE OR REPLACE TRIGGER _200_check_transaction
AFTER INSERT OR UPDATE OF user_id, txn_date, transaction_id ON bank.transaction_tags
FOR EACH ROW EXECUTE FUNCTION bank.tg_transaction_tags__check_transaction();
