-- The balance an account reported, over time: on every insert of an account and every change of
-- its balance or currency, the day's row of bank.account_balances takes the new value (the day's
-- last value stays). One row per change; accounts change far less often than transactions.
-- SECURITY DEFINER: applications read the history, never write it.
CREATE OR REPLACE FUNCTION bank.tg_accounts__balance_history()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO bank.account_balances AS b (user_id, account_id, day, currency, balance)
    VALUES (NEW.user_id, NEW.id, current_date, NEW.currency, NEW.balance)
    ON CONFLICT (user_id, account_id, day) DO UPDATE SET
        currency = excluded.currency,
        balance = excluded.balance,
        reported_at = excluded.reported_at;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_accounts__balance_history() IS
'AFTER INSERT and UPDATE OF balance, currency row trigger of bank.accounts: the day''s row of '
'bank.account_balances takes the account''s balance and currency.';

CREATE OR REPLACE TRIGGER _600_balance_history_insert AFTER INSERT ON bank.accounts
FOR EACH ROW EXECUTE FUNCTION bank.tg_accounts__balance_history();
CREATE OR REPLACE TRIGGER _600_balance_history_update AFTER UPDATE OF balance, currency ON bank.accounts
FOR EACH ROW WHEN (old.balance IS DISTINCT FROM new.balance OR old.currency IS DISTINCT FROM new.currency)
EXECUTE FUNCTION bank.tg_accounts__balance_history();
