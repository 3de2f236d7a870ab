-- The error of a write to an account that is not the user's, in PostgreSQL's own words for the
-- foreign key it would break (transactions_user_id_account_id_fkey). The prepare trigger raises it
-- before looking for an exchange rate, and api.import_transactions before reading any row, so the
-- refusal is the same in every currency and on every path.
CREATE OR REPLACE FUNCTION bank.raise_not_the_users_account(p_user_id bigint, p_account_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "transactions" violates foreign key constraint "%"',
        'transactions_user_id_account_id_fkey'
        USING
            ERRCODE = 'foreign_key_violation',
            SCHEMA = 'bank',
            TABLE = 'transactions',
            CONSTRAINT = 'transactions_user_id_account_id_fkey',
            DETAIL = format(
                'Key (user_id, account_id)=(%s, %s) is not present in table "accounts".', p_user_id, p_account_id
            );
END;
$$;
COMMENT ON FUNCTION bank.raise_not_the_users_account(bigint, bigint) IS
'Raises 23503 transactions_user_id_account_id_fkey for (p_user_id, p_account_id), as the foreign key would.';
