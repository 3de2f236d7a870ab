-- Keeps bank.transaction_external_ids, the one-per-account key of bank ids, in step with direct
-- updates and deletes of bank.transactions: once per statement, from its transition tables. A bank
-- id already held by another transaction of the account, under any date, is refused by that table's
-- key (transaction_external_ids_pkey). Rows without a bank id cost one filtered scan of the
-- transition table. An INSERT's bank ids are written by the totals trigger
-- (bank.tg_transactions__monthly_totals), which runs on every insert anyway: a trigger of their own
-- cost a further call per insert. api.import_transactions writes its rows' ids itself.
-- SECURITY DEFINER: applications read the table, never write it.
CREATE OR REPLACE FUNCTION bank.tg_transactions__external_ids()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- One static statement per event: a transition table the event lacks cannot even be named.
    IF TG_OP = 'DELETE' THEN
        DELETE FROM bank.transaction_external_ids AS x
        USING old_rows AS o
        WHERE
            o.external_id IS NOT NULL AND x.user_id = o.user_id AND x.account_id = o.account_id
            AND x.external_id = o.external_id AND x.transaction_id = o.id;
    ELSE
        -- Keys the statement took away (a bank id or an account changed), then the keys it added;
        -- a row that kept both keeps its key, whatever else changed (its date too).
        DELETE FROM bank.transaction_external_ids AS x
        USING (
            SELECT o.user_id, o.account_id, o.external_id, o.id FROM old_rows AS o WHERE o.external_id IS NOT NULL
            EXCEPT
            SELECT n.user_id, n.account_id, n.external_id, n.id FROM new_rows AS n WHERE n.external_id IS NOT NULL
        ) AS gone
        WHERE
            x.user_id = gone.user_id AND x.account_id = gone.account_id AND x.external_id = gone.external_id
            AND x.transaction_id = gone.id;
        INSERT INTO bank.transaction_external_ids (user_id, account_id, external_id, transaction_id)
        SELECT n.user_id, n.account_id, n.external_id, n.id FROM new_rows AS n WHERE n.external_id IS NOT NULL
        EXCEPT
        SELECT o.user_id, o.account_id, o.external_id, o.id FROM old_rows AS o WHERE o.external_id IS NOT NULL;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION bank.tg_transactions__external_ids() IS
'AFTER UPDATE and DELETE statement trigger of bank.transactions: keeps bank.transaction_external_ids, '
'refusing a bank id the account already holds (transaction_external_ids_pkey). An INSERT''s: the totals trigger.';

-- An INSERT's keys are the totals trigger's (functions/bank.tg_transactions__monthly_totals.sql).
DROP TRIGGER IF EXISTS _600_external_ids_insert ON bank.transactions;
CREATE OR REPLACE TRIGGER _600_external_ids_update AFTER UPDATE ON bank.transactions
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__external_ids();
CREATE OR REPLACE TRIGGER _600_external_ids_delete AFTER DELETE ON bank.transactions
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg_transactions__external_ids();
