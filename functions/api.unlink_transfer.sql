-- bank.unlink_transfer for the acting user.
CREATE OR REPLACE FUNCTION api.unlink_transfer(p_transfer_id bigint)
RETURNS integer
LANGUAGE sql
VOLATILE
AS $$
    SELECT bank.unlink_transfer(bank.acting_user_id(), p_transfer_id)
$$;
COMMENT ON FUNCTION api.unlink_transfer(bigint) IS 'Undoes api.link_transfer for the acting user.';
