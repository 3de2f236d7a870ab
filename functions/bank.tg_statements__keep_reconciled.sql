-- A reconciled statement is what its transactions were checked against: its account, period and
-- balances cannot change, and it cannot be deleted, until api.unreconcile_statement releases it
-- (BKST2); otherwise its transactions would stay locked by a statement that no longer says what
-- they were reconciled against. When its account is being deleted, it goes with it.
CREATE OR REPLACE FUNCTION bank.tg_statements__keep_reconciled()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.user_id, NEW.account_id, NEW.period_start, NEW.period_end, NEW.currency, NEW.opening_balance,
            NEW.closing_balance) IS NOT DISTINCT FROM (OLD.user_id, OLD.account_id, OLD.period_start, OLD.period_end,
            OLD.currency, OLD.opening_balance, OLD.closing_balance) THEN
            RETURN NEW;
        END IF;
    ELSIF NOT EXISTS (SELECT FROM bank.accounts AS a WHERE a.user_id = OLD.user_id AND a.id = OLD.account_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'statement % (account %, % to %) is reconciled: its account, period and balances cannot change, '
        'nor can it be deleted',
        OLD.id, OLD.account_id, OLD.period_start, OLD.period_end
        USING
            ERRCODE = 'BKST2',
            HINT = format('api.unreconcile_statement(%s) releases it.', OLD.id);
END;
$$;
COMMENT ON FUNCTION bank.tg_statements__keep_reconciled() IS
'BEFORE UPDATE OR DELETE row trigger of bank.statements, for reconciled ones only: refuses a change of account, '
'period or balances, and a delete, with BKST2 (a delete cascading from its account goes through).';

CREATE OR REPLACE TRIGGER _200_keep_reconciled BEFORE UPDATE OR DELETE ON bank.statements
FOR EACH ROW WHEN (old.reconciled_at IS NOT NULL)
EXECUTE FUNCTION bank.tg_statements__keep_reconciled();
