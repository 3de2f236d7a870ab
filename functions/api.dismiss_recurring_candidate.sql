-- Dismisses one of the acting user's recurring candidates: the job leaves it dismissed, so the
-- series is never proposed again. Dismissing twice changes nothing; an accepted candidate made a
-- bill, which is deleted as a bill, not dismissed (BKRP1).
-- SECURITY DEFINER: it marks the candidate, which applications only read.
CREATE OR REPLACE FUNCTION api.dismiss_recurring_candidate(p_candidate_id bigint)
RETURNS bank.recurring_candidates
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_candidate bank.recurring_candidates;
BEGIN
    SELECT * INTO v_candidate FROM bank.recurring_candidates AS c
    WHERE c.user_id = v_user_id AND c.id = p_candidate_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api.dismiss_recurring_candidate: no recurring candidate % for user %', p_candidate_id,
            v_user_id
            USING ERRCODE = 'BKNF1', HINT = 'api.recurring_candidates lists the acting user''s candidates.';
    END IF;
    IF v_candidate.status = 'accepted' THEN
        RAISE EXCEPTION 'recurring candidate % (%, %) was already accepted as bill %', v_candidate.id,
            v_candidate.merchant, v_candidate.recurrence, v_candidate.bill_id
            USING ERRCODE = 'BKRP1', HINT = 'Delete the bill instead.';
    END IF;
    UPDATE bank.recurring_candidates AS c
    SET status = 'dismissed', decided_at = coalesce(c.decided_at, now())
    WHERE c.user_id = v_user_id AND c.id = v_candidate.id
    RETURNING * INTO v_candidate;
    RETURN v_candidate;
END;
$$;
COMMENT ON FUNCTION api.dismiss_recurring_candidate(bigint) IS
'Dismisses the acting user''s recurring candidate for good (the job never proposes it again) and returns it; BKRP1 '
'when it was accepted, BKNF1 when the user has no such candidate.';
