-- Undo V013. The functions of functions/ that name the tables below go first: their files are
-- applied again by the next migrate, which forgets every repeatable script after a rollback.
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.statements;
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS api.recurring_candidates;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.reconcile_statement(bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.unreconcile_statement(bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.accept_recurring_candidate(bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.dismiss_recurring_candidate(bigint);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS api.find_recurring_candidates(date);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.find_recurring_candidates(bigint, date, date);
DROP TRIGGER IF EXISTS _200_keep_reconciled ON bank.transactions;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_transactions__keep_reconciled();
-- squawk-ignore ban-drop-column
ALTER TABLE bank.transactions DROP COLUMN statement_id;
DROP TABLE bank.recurring_candidates;
DROP TYPE bank.recurring_candidate_status;
DROP TABLE bank.statements;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_statements__prepare();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg_statements__keep_reconciled();
-- The extension goes only when this migration made it (bankdb migrate runs as bank_owner, so it owns
-- what it made) and nothing else uses it; one a DBA created stays.
DO $$
BEGIN
    IF EXISTS (
        SELECT FROM pg_catalog.pg_extension AS e
        WHERE e.extname = 'btree_gist' AND e.extowner = 'bank_owner'::regrole
    ) THEN
        DROP EXTENSION btree_gist;
    END IF;
END;
$$;
