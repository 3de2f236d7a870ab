-- Before a statement is written: its currency is its account's, and both balances are stored at
-- that currency's scale (1.5 USD -> 1.50); a balance with more decimals than the currency has is
-- refused as statements_<column>_scale_check (bank.at_currency_scale), never rounded, as every
-- money column is. The currency is kept on the statement and changes only with its account: the
-- balances stay in the currency the bank printed them in if the account's currency changes later.
CREATE OR REPLACE FUNCTION bank.tg_statements__prepare()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_minor_unit smallint;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.user_id, NEW.account_id) = (OLD.user_id, OLD.account_id) THEN
        -- The same account: the statement keeps the currency it was written in.
        NEW.currency := OLD.currency;
        SELECT c.minor_unit INTO v_minor_unit FROM bank.currencies AS c WHERE c.code = NEW.currency;
    ELSE
        SELECT a.currency, c.minor_unit INTO NEW.currency, v_minor_unit
        FROM bank.accounts AS a
        INNER JOIN bank.currencies AS c ON c.code = a.currency
        WHERE a.user_id = NEW.user_id AND a.id = NEW.account_id;
        -- Another user's account (invisible under row-level security) or none: the foreign key's own
        -- error, before NOT NULL on currency would name the wrong rule. A row for a user the writer
        -- cannot see is left to the row-level security policy, which refuses it next (42501).
        IF NOT FOUND AND EXISTS (SELECT FROM bank.users AS u WHERE u.id = NEW.user_id) THEN
            RAISE EXCEPTION 'insert or update on table "statements" violates foreign key constraint "%"',
                'statements_user_id_account_id_fkey'
                USING
                    ERRCODE = 'foreign_key_violation',
                    SCHEMA = 'bank',
                    TABLE = 'statements',
                    CONSTRAINT = 'statements_user_id_account_id_fkey',
                    DETAIL = format(
                        'Key (user_id, account_id)=(%s, %s) is not present in table "accounts".',
                        NEW.user_id, NEW.account_id
                    );
        END IF;
    END IF;
    NEW.opening_balance := bank.at_currency_scale(
        NEW.opening_balance, v_minor_unit, NEW.currency, 'statements', 'opening_balance'
    );
    NEW.closing_balance := bank.at_currency_scale(
        NEW.closing_balance, v_minor_unit, NEW.currency, 'statements', 'closing_balance'
    );
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_statements__prepare() IS
'BEFORE INSERT OR UPDATE row trigger of bank.statements: currency from the account on insert or a change of '
'account (23503 '
'statements_user_id_account_id_fkey when it is not the user''s), balances at its scale '
'(statements_<column>_scale_check).';

-- Only when what it derives from changes: reconciling sets reconciled_at and nothing else.
CREATE OR REPLACE TRIGGER _200_prepare
BEFORE INSERT OR UPDATE OF user_id, account_id, currency, opening_balance, closing_balance ON bank.statements
FOR EACH ROW EXECUTE FUNCTION bank.tg_statements__prepare();
