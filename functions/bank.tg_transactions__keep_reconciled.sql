-- A reconciled transaction (statement_id set by api.reconcile_statement) is part of what its
-- statement proved: its amount, direction, currency, date and account cannot change, and it cannot
-- be deleted, until api.unreconcile_statement releases it (BKST2). Deleting is refused too: a
-- deleted row would leave the reconciled statement short of it as surely as a changed amount.
-- Its description, merchant, category and kind (a transfer link) may change: the balance does not.
-- When its account is being deleted (the account's or the user's cascade), the row goes with it,
-- as does the statement.
CREATE OR REPLACE FUNCTION bank.tg_transactions__keep_reconciled()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.amount, NEW.txn_type, NEW.currency, NEW.txn_date, NEW.account_id, NEW.user_id)
            IS NOT DISTINCT FROM (OLD.amount, OLD.txn_type, OLD.currency, OLD.txn_date, OLD.account_id, OLD.user_id)
            AND (NEW.statement_id IS NOT DISTINCT FROM OLD.statement_id OR NEW.statement_id IS NULL) THEN
            RETURN NEW;
        END IF;
    ELSIF NOT EXISTS (SELECT FROM bank.accounts AS a WHERE a.user_id = OLD.user_id AND a.id = OLD.account_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'transaction % (% % %, %) is reconciled by statement %: its amount, direction, currency, date '
        'and account cannot change, nor can it be deleted',
        OLD.id, OLD.txn_type, OLD.amount, OLD.currency, OLD.txn_date, OLD.statement_id
        USING
            ERRCODE = 'BKST2',
            HINT = format('api.unreconcile_statement(%s) releases it.', OLD.statement_id);
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__keep_reconciled() IS
'BEFORE UPDATE OR DELETE row trigger of bank.transactions, for reconciled rows only: refuses a change of amount, '
'direction, currency, date or account, and a delete, with BKST2 (a delete cascading from its account goes through).';

-- The WHEN clause keeps every other row's update and delete free of it: no function call.
CREATE OR REPLACE TRIGGER _200_keep_reconciled BEFORE UPDATE OR DELETE ON bank.transactions
FOR EACH ROW WHEN (old.statement_id IS NOT NULL)
EXECUTE FUNCTION bank.tg_transactions__keep_reconciled();
