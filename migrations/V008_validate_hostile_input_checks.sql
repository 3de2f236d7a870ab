-- transactional: false
-- V008: the existing rows meet V007's constraints. Outside a transaction of its own making, so
-- the constraints V007 added NOT VALID are validated under SHARE UPDATE EXCLUSIVE locks: the
-- application goes on reading and writing while each table (each partition of a large history)
-- is read once. Transactions stored with more zeros than their currency has (1.50000 USD) are
-- stored at its scale first: the same number, so the totals trigger adds nothing.
-- Safe to run again: a valid constraint validates at once, and no amount is off its scale twice.
DO $$
DECLARE
    v_constraint record;
BEGIN
    UPDATE bank.transactions AS t
    SET amount = round(t.amount, c.minor_unit), base_amount = round(t.base_amount, b.minor_unit)
    FROM bank.currencies AS c, bank.users AS u, bank.currencies AS b
    WHERE
        c.code = t.currency AND u.id = t.user_id AND b.code = u.base_currency
        AND (scale(t.amount) <> c.minor_unit OR scale(t.base_amount) <> b.minor_unit);
    FOR v_constraint IN
        SELECT con.conrelid::regclass AS relation, con.conname
        FROM pg_catalog.pg_constraint AS con
        INNER JOIN pg_catalog.pg_class AS rel ON rel.oid = con.conrelid
        WHERE rel.relnamespace = 'bank'::regnamespace AND NOT rel.relispartition AND NOT con.convalidated
            AND con.conname ~ '_(finite|visible)_check$'
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', v_constraint.relation, v_constraint.conname);
    END LOOP;
END;
$$;
