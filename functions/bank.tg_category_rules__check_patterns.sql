-- A rule's patterns must be valid (case-insensitive) regular expressions when the rule is saved,
-- not when a transaction happens to be matched against it.
CREATE OR REPLACE FUNCTION bank.tg_category_rules__check_patterns()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_column text;
    v_pattern text;
BEGIN
    FOR v_column, v_pattern IN
        SELECT p.column_name, p.pattern
        FROM (VALUES ('keyword_pattern', NEW.keyword_pattern), ('merchant_pattern', NEW.merchant_pattern))
            AS p (column_name, pattern)
        WHERE p.pattern IS NOT NULL
    LOOP
        BEGIN
            PERFORM '' ~* v_pattern;
        EXCEPTION WHEN invalid_regular_expression THEN
            RAISE EXCEPTION 'category_rules.% % is not a valid regular expression: %',
                v_column, quote_literal(v_pattern), SQLERRM
                USING
                    ERRCODE = 'check_violation',
                    SCHEMA = TG_TABLE_SCHEMA,
                    TABLE = TG_TABLE_NAME,
                    COLUMN = v_column,
                    CONSTRAINT = format('category_rules_%s_regex_check', v_column);
        END;
    END LOOP;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION bank.tg_category_rules__check_patterns() IS
'BEFORE INSERT OR UPDATE row trigger of bank.category_rules: rejects a pattern that is not a valid regular '
'expression (category_rules_<column>_regex_check).';

CREATE OR REPLACE TRIGGER _200_check_patterns BEFORE INSERT OR UPDATE OF keyword_pattern, merchant_pattern
ON bank.category_rules
FOR EACH ROW EXECUTE FUNCTION bank.tg_category_rules__check_patterns();
