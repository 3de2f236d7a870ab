-- Undoes bank.link_transfer: both sides become regular transactions again.
CREATE OR REPLACE FUNCTION bank.unlink_transfer(p_user_id bigint, p_transfer_id bigint)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
STRICT
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE bank.transactions
    SET kind = 'regular', transfer_id = NULL
    WHERE user_id = p_user_id AND transfer_id = p_transfer_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 0 THEN
        RAISE EXCEPTION 'transfer (id=%) of user % not found', p_transfer_id, p_user_id USING ERRCODE = 'BKNF1';
    END IF;
    RETURN v_count;
END;
$$;
COMMENT ON FUNCTION bank.unlink_transfer(bigint, bigint) IS
'Makes both sides of a transfer regular transactions again; returns 2, or raises BKNF1.';
