-- Keeps bank.transaction_tags with its transactions, as ON DELETE CASCADE and ON UPDATE CASCADE of a
-- foreign key would (V012 says why there is none): once per statement, from its transition tables.
-- A deleted transaction's links go; a transaction whose date changes, within its month or to
-- another month's partition, takes its links to the new date; one that changes user (only the
-- owner can) loses them, since the tags are the old user's. An UPDATE that changes no date or user
-- costs one join of its transition tables and nothing else. SECURITY DEFINER: applications never
-- update the links.
CREATE OR REPLACE FUNCTION bank.tg_transactions__tags()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- One static statement per event: a transition table the event lacks cannot even be named.
    IF TG_OP = 'DELETE' THEN
        DELETE FROM bank.transaction_tags AS l
        USING old_rows AS o
        WHERE l.user_id = o.user_id AND l.txn_date = o.txn_date AND l.transaction_id = o.id;
    -- A row's old and new versions share user_id and id; an old row without its new version
    -- changed user (or was given a new id, SET id = DEFAULT): its links go.
    ELSIF EXISTS (
        SELECT FROM old_rows AS o
        LEFT JOIN new_rows AS n ON o.user_id = n.user_id AND o.id = n.id
        WHERE n.id IS NULL OR n.txn_date <> o.txn_date
    ) THEN
        DELETE FROM bank.transaction_tags AS l
        USING old_rows AS o
        WHERE
            l.user_id = o.user_id AND l.txn_date = o.txn_date AND l.transaction_id = o.id
            AND NOT EXISTS (SELECT FROM new_rows AS n WHERE n.user_id = o.user_id AND n.id = o.id);
        UPDATE bank.transaction_tags AS l
        SET txn_date = n.txn_date
        FROM old_rows AS o, new_rows AS n
        WHERE
            n.user_id = o.user_id AND n.id = o.id AND n.txn_date <> o.txn_date
            AND l.user_id = o.user_id AND l.txn_date = o.txn_date AND l.transaction_id = o.id;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__tags() IS
'AFTER UPDATE and DELETE statement trigger of bank.transactions: deletes the tag links of deleted transactions '
'and moves those of a transaction whose txn_date changed (bank.transaction_tags has no foreign key; see V012).';

CREATE OR REPLACE TRIGGER _600_tags_update AFTER UPDATE ON bank.transactions
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__tags();
CREATE OR REPLACE TRIGGER _600_tags_delete AFTER DELETE ON bank.transactions
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__tags();
