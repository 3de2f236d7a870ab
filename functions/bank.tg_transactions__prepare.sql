-- Before a transaction is written: categorize it by the user's rules (on insert, when no category
-- was given), remember a category set by hand, store the amount at its currency's scale, and
-- convert it into the user's base currency. fx_rate, base_amount, category_rule_id and
-- is_categorized are derived here whatever the writer sends: an application cannot set them.
CREATE OR REPLACE FUNCTION bank.tg_transactions__prepare()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_rule record;
    v_base_currency text;
    v_minor_unit smallint;
    v_base_minor_unit smallint;
    v_owned boolean;
    v_rate numeric;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.category IS NULL THEN
        SELECT m.id, m.category INTO v_rule
        FROM bank.matching_rule(NEW.user_id, NEW.description, NEW.merchant) AS m;
        IF FOUND THEN
            NEW.category := v_rule.category;
            NEW.category_rule_id := v_rule.id;
        ELSE
            NEW.category_rule_id := NULL;
        END IF;
    ELSIF NEW.category_rule_id IS NOT NULL
        AND (TG_OP = 'INSERT' OR NEW.category_rule_id IS DISTINCT FROM OLD.category_rule_id) THEN
        -- A rule id is provenance: kept only when it is the rule that categorizes this row into
        -- this category (bank.apply_category_rules writes exactly that; so does a row an UPDATE
        -- moves to another month's partition, which arrives here as an INSERT).
        IF NOT EXISTS (
            SELECT FROM bank.matching_rule(NEW.user_id, NEW.description, NEW.merchant) AS m
            WHERE m.id = NEW.category_rule_id AND m.category = NEW.category
        ) THEN
            NEW.category_rule_id := CASE
                WHEN TG_OP = 'UPDATE' AND NEW.category IS NOT DISTINCT FROM OLD.category THEN OLD.category_rule_id
            END;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND NEW.category IS DISTINCT FROM OLD.category THEN
        -- Changed by hand: no rule set it, so no rule will ever overwrite it.
        NEW.category_rule_id := NULL;
    END IF;
    NEW.is_categorized := NEW.category IS NOT NULL;

    IF TG_OP = 'INSERT'
        OR (NEW.amount, NEW.currency, NEW.txn_date, NEW.user_id)
        IS DISTINCT FROM (OLD.amount, OLD.currency, OLD.txn_date, OLD.user_id)
        OR scale(NEW.amount) <> scale(OLD.amount) THEN
        -- This runs for every row written, and each further query or function layer cost more than
        -- the work itself: the common case (the user's base currency) is one query of two index
        -- lookups; another currency takes a second for the base currency's minor unit, ownership and
        -- the direct pair's rate, read inline (one query for both cases initialized the second's
        -- subplans on every row: 20 µs of 380). Unknown (or, under row-level security, another) user
        -- or an unknown currency finds nothing: left to the foreign keys and the policy, which name
        -- themselves.
        SELECT u.base_currency, c.minor_unit
        INTO v_base_currency, v_minor_unit
        FROM bank.users AS u
        CROSS JOIN bank.currencies AS c
        WHERE u.id = NEW.user_id AND c.code = NEW.currency;
        IF round(NEW.amount, v_minor_unit) = NEW.amount THEN
            NEW.amount := round(NEW.amount, v_minor_unit);
        ELSE
            -- Over scale, or nothing found: the function names the error, or leaves it to the keys.
            NEW.amount := bank.at_currency_scale(NEW.amount, v_minor_unit, NEW.currency, 'transactions', 'amount');
        END IF;
        IF v_base_currency IS NULL OR NEW.currency = v_base_currency THEN
            NEW.fx_rate := 1;
            NEW.base_amount := NEW.amount;
        ELSE
            -- Ownership before anything else: a write to an account that is not the user's fails on
            -- its foreign key in every currency, never on a missing exchange rate first.
            SELECT
                b.minor_unit,
                EXISTS (SELECT FROM bank.accounts AS a WHERE a.user_id = NEW.user_id AND a.id = NEW.account_id),
                (
                    SELECT r.rate
                    FROM bank.exchange_rates AS r
                    WHERE r.base_currency = NEW.currency AND r.quote_currency = v_base_currency
                        AND r.rate_date <= NEW.txn_date
                    ORDER BY r.rate_date DESC
                    LIMIT 1
                )
            INTO v_base_minor_unit, v_owned, v_rate
            FROM bank.currencies AS b
            WHERE b.code = v_base_currency;
            IF NOT v_owned THEN
                PERFORM bank.raise_not_the_users_account(NEW.user_id, NEW.account_id);
            END IF;
            -- No direct rate: the inverse pair or the pivot, or BKFX1 naming what is missing.
            NEW.fx_rate := coalesce(v_rate, bank.exchange_rate(NEW.currency, v_base_currency, NEW.txn_date));
            NEW.base_amount := round(NEW.amount * NEW.fx_rate, v_base_minor_unit);
        END IF;
    ELSE
        NEW.fx_rate := OLD.fx_rate;
        NEW.base_amount := OLD.base_amount;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__prepare() IS
'BEFORE INSERT OR UPDATE row trigger of bank.transactions: rule categorization on insert, hand-set categories, '
'amount at its currency''s scale, fx_rate and base_amount; derived columns are never taken from the writer.';

-- A row moved to another month's partition is inserted there: this runs again, as an INSERT, and
-- keeps what was decided (its category and rule, when the rule still categorizes it so; its rate
-- is that of its new date).
-- Not for the rows of api.import_transactions, which computes the same set-based: only it runs as
-- bank_owner with bank.import on (it sets it around its INSERT). An application can set bank.import
-- but is never bank_owner; migrations and seeds run as bank_owner without it.
CREATE OR REPLACE TRIGGER _200_prepare BEFORE INSERT OR UPDATE ON bank.transactions
FOR EACH ROW
WHEN (current_user <> 'bank_owner' OR current_setting('bank.import', TRUE) IS DISTINCT FROM 'on')
EXECUTE FUNCTION bank.tg_transactions__prepare();
