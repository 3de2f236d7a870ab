-- V010: a named row type for bank.import_check, so api.import_transactions can hold the checked
-- rows in one variable and read them twice (the months that need partitions, then the insert)
-- instead of checking every row twice (measured: 388 of 1,900 ms for 20,000 rows). The function's
-- return type changes, so the old one goes; functions/bank.import_check.sql makes it again.
CREATE TYPE bank.import_row AS (
    row_no bigint,
    txn_date date,
    posted_date date,
    amount numeric,
    txn_type bank.txn_type,
    description text,
    merchant text,
    currency text,
    category text,
    external_id text,
    rule text,
    value text,
    message text
);
COMMENT ON TYPE bank.import_row IS
'A row of an import batch as bank.import_check returns it: typed values, or the first rule it breaks.';
-- Only api.import_transactions calls it, and the same run applies both again.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.import_check(jsonb, bigint, bigint, text);
