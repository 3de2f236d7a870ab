-- The lines of a split transaction sum exactly to its amount, and it is still regular: checked at
-- COMMIT, once per line written and per change of a transaction's amount, date or kind, so that an
-- application may change the parent and its lines in one transaction, in any order (replace three
-- lines by two, then correct the amount). Each check reads the key as it is at COMMIT: a
-- transaction deleted meanwhile took its lines with it, and one moved to another date was queued
-- again under its new key by the UPDATE that moved it. SECURITY DEFINER: the check reads the
-- lines and the transaction whoever queued it (an event queued by bankdb's own triggers runs at
-- the application's COMMIT).
CREATE OR REPLACE FUNCTION bank.tg__check_split_sum()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id bigint;
    v_txn_date date;
    v_id bigint;
    v_txn record;
    v_sum numeric;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_user_id := OLD.user_id;
        v_txn_date := OLD.txn_date;
        v_id := OLD.transaction_id;
    ELSIF TG_TABLE_NAME LIKE 'transaction_splits%' THEN
        v_user_id := NEW.user_id;
        v_txn_date := NEW.txn_date;
        v_id := NEW.transaction_id;
    ELSE
        v_user_id := NEW.user_id;
        v_txn_date := NEW.txn_date;
        v_id := NEW.id;
    END IF;
    SELECT sum(l.amount) INTO v_sum
    FROM bank.transaction_splits AS l
    WHERE l.user_id = v_user_id AND l.txn_date = v_txn_date AND l.transaction_id = v_id;
    IF v_sum IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT t.amount, t.currency, t.kind INTO v_txn
    FROM bank.transactions AS t
    WHERE t.user_id = v_user_id AND t.txn_date = v_txn_date AND t.id = v_id;
    IF NOT FOUND THEN
        RETURN NULL;
    ELSIF v_txn.kind <> 'regular' THEN
        RAISE EXCEPTION 'transaction_splits_regular_check: transaction % is a % transaction, only regular ones can be split',
            v_id, v_txn.kind
            USING
                ERRCODE = 'BKSP2',
                HINT = 'Delete its lines (bank.transaction_splits) before it becomes a transfer or a payment.';
    ELSIF v_sum <> v_txn.amount THEN
        RAISE EXCEPTION 'transaction_splits_sum_check: the lines of transaction % sum to % %, its amount is % %',
            v_id, v_sum, v_txn.currency, v_txn.amount, v_txn.currency
            USING
                ERRCODE = 'BKSP1',
                DETAIL = format(
                    'Key (user_id, txn_date, transaction_id)=(%s, %s, %s); difference %s %s.',
                    v_user_id, v_txn_date, v_id, v_txn.amount - v_sum, v_txn.currency
                ),
                HINT = 'Change the lines or the amount in the same transaction so that they agree at COMMIT.';
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg__check_split_sum() IS
'Deferred constraint trigger of bank.transaction_splits and bank.transactions (amount, txn_date, kind): at COMMIT '
'a split transaction''s lines sum to its amount (BKSP1, naming both sums) and it is regular (BKSP2).';

-- PostgreSQL has no CREATE OR REPLACE for a constraint trigger.
DROP TRIGGER IF EXISTS _700_check_split_sum ON bank.transaction_splits;
CREATE CONSTRAINT TRIGGER _700_check_split_sum
AFTER INSERT OR DELETE OR UPDATE OF user_id, txn_date, transaction_id, amount ON bank.transaction_splits
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION bank.tg__check_split_sum();
-- Only rows whose amount, date or kind changed queue a check: an insert never does (a new
-- transaction has no lines), nor an update of, say, the description.
DROP TRIGGER IF EXISTS _700_check_split_sum ON bank.transactions;
CREATE CONSTRAINT TRIGGER _700_check_split_sum
AFTER UPDATE OF amount, txn_date, kind ON bank.transactions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW
WHEN (old.amount <> new.amount OR old.txn_date <> new.txn_date OR old.kind <> new.kind)
EXECUTE FUNCTION bank.tg__check_split_sum();
