-- Before a transaction is written: categorize it by the user's rules (on insert, when no category
-- was given), remember a category set by hand, and convert the amount into the user's base currency.
CREATE OR REPLACE FUNCTION bank.tg_transactions__prepare()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_rule record;
    v_base_currency text;
    v_minor_unit smallint;
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.category IS DISTINCT FROM OLD.category
        AND NEW.category_rule_id IS NOT DISTINCT FROM OLD.category_rule_id THEN
        -- Changed by hand: no rule set it, so no rule will ever overwrite it.
        NEW.category_rule_id := NULL;
    ELSIF TG_OP = 'INSERT' AND NEW.category IS NULL THEN
        SELECT m.id, m.category INTO v_rule
        FROM bank.matching_rule(NEW.user_id, NEW.description, NEW.merchant) AS m;
        IF FOUND THEN
            NEW.category := v_rule.category;
            NEW.category_rule_id := v_rule.id;
        END IF;
    END IF;
    NEW.is_categorized := NEW.category IS NOT NULL;

    IF TG_OP = 'INSERT'
        OR (NEW.amount, NEW.currency, NEW.txn_date, NEW.user_id)
        IS DISTINCT FROM (OLD.amount, OLD.currency, OLD.txn_date, OLD.user_id) THEN
        -- Two cheap lookups rather than one join: most rows are in the user's base currency and
        -- need neither the minor unit nor a rate (a bulk import runs this once per row).
        SELECT u.base_currency INTO v_base_currency FROM bank.users AS u WHERE u.id = NEW.user_id;
        IF v_base_currency IS NOT NULL AND NEW.currency <> v_base_currency THEN
            SELECT c.minor_unit INTO v_minor_unit
            FROM bank.currencies AS c
            WHERE c.code = v_base_currency AND EXISTS (SELECT FROM bank.currencies AS t WHERE t.code = NEW.currency);
        END IF;
        -- An unknown user or currency is left to its foreign key, which names itself.
        IF v_minor_unit IS NULL THEN
            NEW.fx_rate := 1;
            NEW.base_amount := NEW.amount;
        ELSE
            NEW.fx_rate := bank.exchange_rate(NEW.currency, v_base_currency, NEW.txn_date);
            NEW.base_amount := round(NEW.amount * NEW.fx_rate, v_minor_unit);
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__prepare() IS
'BEFORE INSERT OR UPDATE row trigger of bank.transactions: rule categorization on insert, hand-set categories, '
'fx_rate and base_amount.';

-- A row moved to another month's partition is inserted there: this runs again, as an INSERT, and
-- changes nothing that was already decided (its category is set, its rate is that of its new date).
CREATE OR REPLACE TRIGGER _200_prepare BEFORE INSERT OR UPDATE ON bank.transactions
FOR EACH ROW EXECUTE FUNCTION bank.tg_transactions__prepare();
