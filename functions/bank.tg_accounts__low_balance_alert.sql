-- low_balance when an account's balance falls below the threshold its owner set: on the crossing,
-- at most once per account and day.
-- SECURITY DEFINER: alerts are raised by bankdb, not inserted by applications.
CREATE OR REPLACE FUNCTION bank.tg_accounts__low_balance_alert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.balance < OLD.low_balance_threshold THEN
        RETURN NULL;  -- already below: no new crossing
    END IF;
    INSERT INTO bank.alerts (user_id, type, subject_id, period, message)
    VALUES (
        NEW.user_id, 'low_balance', NEW.id, current_date,
        format(
            'Balance of %s %s is %s %s, below your %s %s threshold',
            NEW.bank_name, NEW.masked_account, NEW.balance, NEW.currency, NEW.low_balance_threshold, NEW.currency
        )
    )
    ON CONFLICT (user_id, type, subject_id, period) DO NOTHING;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_accounts__low_balance_alert() IS
'AFTER INSERT OR UPDATE row trigger of bank.accounts: raises a low_balance alert when the balance crosses '
'below low_balance_threshold.';

CREATE OR REPLACE TRIGGER _500_low_balance_alert AFTER INSERT OR UPDATE OF balance, low_balance_threshold
ON bank.accounts
FOR EACH ROW WHEN (new.balance < new.low_balance_threshold)
EXECUTE FUNCTION bank.tg_accounts__low_balance_alert();
