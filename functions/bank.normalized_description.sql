-- What two descriptions of one purchase have in common however a bank or a file wrote them: case
-- and runs of white space do not count. Part of an imported row's fingerprint.
CREATE OR REPLACE FUNCTION bank.normalized_description(p_description text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
AS $$
    SELECT lower(regexp_replace(btrim(p_description), '\s+', ' ', 'g'))
$$;
COMMENT ON FUNCTION bank.normalized_description(text) IS
'The description in lower case with runs of white space made one space: the fingerprint''s description.';
