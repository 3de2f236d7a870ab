-- Marks two transactions as the two sides of one transfer between the user's own accounts, so
-- neither counts as spending or income. Returns the transfer id both now carry.
CREATE OR REPLACE FUNCTION bank.link_transfer(
    p_user_id bigint, p_debit_id bigint, p_credit_id bigint, p_max_days integer DEFAULT 3
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
STRICT
AS $$
DECLARE
    v_debit bank.transactions;
    v_credit bank.transactions;
    v_side bank.transactions;
    v_transfer_id bigint;
BEGIN
    SELECT * INTO v_debit FROM bank.transactions WHERE user_id = p_user_id AND id = p_debit_id FOR UPDATE;
    SELECT * INTO v_credit FROM bank.transactions WHERE user_id = p_user_id AND id = p_credit_id FOR UPDATE;
    IF v_debit.id IS NULL OR v_credit.id IS NULL THEN
        RAISE EXCEPTION 'transaction (id=%) of user % not found', CASE WHEN v_debit.id IS NULL THEN p_debit_id ELSE p_credit_id END, p_user_id
            USING ERRCODE = 'BKNF1';
    END IF;
    FOREACH v_side IN ARRAY ARRAY[v_debit, v_credit] LOOP
        IF v_side.kind <> 'regular' THEN
            RAISE EXCEPTION 'transaction (id=%) is already a % and cannot be linked', v_side.id, v_side.kind
                USING ERRCODE = 'BKTR1';
        END IF;
    END LOOP;
    IF v_debit.txn_type <> 'debit' OR v_credit.txn_type <> 'credit' THEN
        RAISE EXCEPTION 'a transfer links a debit to a credit: transaction (id=%) is a %, transaction (id=%) a %',
            v_debit.id, v_debit.txn_type, v_credit.id, v_credit.txn_type
            USING ERRCODE = 'BKTR1';
    END IF;
    IF v_debit.account_id = v_credit.account_id THEN
        RAISE EXCEPTION 'both sides of a transfer are on account (id=%)', v_debit.account_id
            USING ERRCODE = 'BKTR1', HINT = 'A transfer moves money between two of the user''s accounts.';
    END IF;
    IF (v_debit.amount, v_debit.currency) IS DISTINCT FROM (v_credit.amount, v_credit.currency) THEN
        RAISE EXCEPTION 'the two sides of a transfer differ: % % out, % % in',
            v_debit.amount, v_debit.currency, v_credit.amount, v_credit.currency
            USING ERRCODE = 'BKTR1';
    END IF;
    IF abs(v_debit.txn_date - v_credit.txn_date) > p_max_days THEN
        RAISE EXCEPTION 'the two sides of a transfer are % days apart (% and %), more than %',
            abs(v_debit.txn_date - v_credit.txn_date), v_debit.txn_date, v_credit.txn_date, p_max_days
            USING ERRCODE = 'BKTR1';
    END IF;
    v_transfer_id := nextval('bank.transfer_id_seq');
    UPDATE bank.transactions
    SET kind = 'transfer', transfer_id = v_transfer_id
    WHERE user_id = p_user_id AND (txn_date, id) IN ((v_debit.txn_date, v_debit.id), (v_credit.txn_date, v_credit.id));
    RETURN v_transfer_id;
END;
$$;
COMMENT ON FUNCTION bank.link_transfer(bigint, bigint, bigint, integer) IS
'Links a debit and a credit of the same amount and currency on two accounts of one user, at most p_max_days apart, '
'as one transfer (kind transfer, shared transfer_id); BKTR1 says why not. Undo with bank.unlink_transfer.';
