-- A calendar date written YYYY-MM-DD, or NULL for anything else (2025-02-30, 25-3-5, 0000-01-01):
-- the import reports a bad date as its row's rejection instead of failing the whole batch on a
-- cast (PostgreSQL 15 has no pg_input_is_valid). The nested CASEs fix the order of evaluation.
CREATE OR REPLACE FUNCTION bank.parse_iso_date(p_text text)
RETURNS date
LANGUAGE sql
IMMUTABLE
STRICT
AS $$
    SELECT CASE
        WHEN p_text ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' AND left(p_text, 4) <> '0000' THEN
            CASE
                WHEN substr(p_text, 9, 2)::integer <= extract(DAY FROM (
                    make_date(left(p_text, 4)::integer, substr(p_text, 6, 2)::integer, 1)
                    + interval '1 month' - interval '1 day'
                )) THEN p_text::date
            END
    END
$$;
COMMENT ON FUNCTION bank.parse_iso_date(text) IS
'p_text as a date when it is a valid YYYY-MM-DD calendar date, else NULL (never an error).';
