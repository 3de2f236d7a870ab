-- Accepts one of the acting user's recurring candidates: a recurring bill (bank.bills) with its
-- merchant, typical amount, currency and recurrence, first due on the next expected date, so
-- paying it brings the next one (bank.tg_bills__next_occurrence). A dismissed candidate may still
-- be accepted; an accepted one is refused (BKRP1), so one series never makes two bills.
-- SECURITY DEFINER: it marks the candidate, which applications only read.
CREATE OR REPLACE FUNCTION api.accept_recurring_candidate(p_candidate_id bigint)
RETURNS bank.bills
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_candidate bank.recurring_candidates;
    v_bill bank.bills;
BEGIN
    -- Locked: a second accept in another session waits, then finds it accepted.
    SELECT * INTO v_candidate FROM bank.recurring_candidates AS c
    WHERE c.user_id = v_user_id AND c.id = p_candidate_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.accept_recurring_candidate: no recurring candidate % for user %', p_candidate_id, v_user_id
            USING ERRCODE = 'BKNF1', HINT = 'api.recurring_candidates lists the acting user''s candidates.';
    END IF;
    IF v_candidate.status = 'accepted' THEN
        RAISE EXCEPTION 'recurring candidate % (%, %) was already accepted as bill %', v_candidate.id,
            v_candidate.merchant, v_candidate.recurrence, v_candidate.bill_id
            USING ERRCODE = 'BKRP1';
    END IF;
    INSERT INTO bank.bills AS b (user_id, biller_name, due_date, amount_due, currency, recurrence)
    VALUES (
        v_user_id, v_candidate.merchant, v_candidate.next_expected_date, v_candidate.typical_amount,
        v_candidate.currency, v_candidate.recurrence
    )
    RETURNING * INTO v_bill;
    UPDATE bank.recurring_candidates AS c
    SET status = 'accepted', bill_id = v_bill.id, decided_at = now()
    WHERE c.user_id = v_user_id AND c.id = v_candidate.id;
    RETURN v_bill;
END;
$$;
COMMENT ON FUNCTION api.accept_recurring_candidate(bigint) IS
'Makes the acting user''s recurring candidate a recurring bill due on its next expected date and returns the bill; '
'BKRP1 when it was already accepted, BKNF1 when the user has no such candidate.';
