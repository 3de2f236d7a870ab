-- bank.link_transfer for the acting user.
CREATE OR REPLACE FUNCTION api.link_transfer(p_debit_id bigint, p_credit_id bigint, p_max_days integer DEFAULT 3)
RETURNS bigint
LANGUAGE sql
VOLATILE
AS $$
    SELECT bank.link_transfer(bank.acting_user_id(), p_debit_id, p_credit_id, p_max_days)
$$;
COMMENT ON FUNCTION api.link_transfer(bigint, bigint, integer) IS
'Links two of the acting user''s transactions as one transfer (see bank.link_transfer); returns its id.';
