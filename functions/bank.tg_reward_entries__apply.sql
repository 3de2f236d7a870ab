-- Each ledger entry moves rewards.points_balance; a redemption larger than the balance is refused.
-- SECURITY DEFINER: applications never set points_balance; only the ledger moves it.
CREATE OR REPLACE FUNCTION bank.tg_reward_entries__apply()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_balance bigint;
BEGIN
    -- A relative update checked against the row it locks: two concurrent redemptions cannot both
    -- spend the same points.
    UPDATE bank.rewards
    SET points_balance = points_balance + CASE NEW.entry_type WHEN 'earn' THEN NEW.points ELSE -NEW.points END
    WHERE user_id = NEW.user_id AND id = NEW.reward_id
        AND (NEW.entry_type = 'earn' OR points_balance >= NEW.points);
    IF NOT FOUND THEN
        SELECT r.points_balance INTO v_balance FROM bank.rewards AS r WHERE r.user_id = NEW.user_id AND r.id = NEW.reward_id;
        RAISE EXCEPTION 'cannot redeem % points from reward (id=%): the balance is %', NEW.points, NEW.reward_id, v_balance
            USING ERRCODE = 'BKRW1';
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_reward_entries__apply() IS
'AFTER INSERT row trigger of bank.reward_entries: adds or subtracts the points on rewards.points_balance (BKRW1).';

CREATE OR REPLACE TRIGGER _500_apply AFTER INSERT ON bank.reward_entries
FOR EACH ROW EXECUTE FUNCTION bank.tg_reward_entries__apply();
