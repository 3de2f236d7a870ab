-- bank.apply_category_rules for the acting user.
CREATE OR REPLACE FUNCTION api.apply_category_rules()
RETURNS integer
LANGUAGE sql
VOLATILE
AS $$
    SELECT bank.apply_category_rules(bank.acting_user_id())
$$;
COMMENT ON FUNCTION api.apply_category_rules() IS
'Categorizes the acting user''s uncategorized transactions by their rules; returns how many.';
