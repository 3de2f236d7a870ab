-- Ledgers and audit trails are written once: UPDATE, DELETE and TRUNCATE are refused for every
-- role but a superuser. A foreign key's own action (SET NULL of admin_id, or the cascade when the
-- user a ledger belongs to is deleted) runs inside its trigger, one level deeper, and is let through.
CREATE OR REPLACE FUNCTION bank.tg__append_only()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF current_setting('is_superuser') = 'on' OR (TG_OP <> 'TRUNCATE' AND pg_trigger_depth() > 1) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING
            ERRCODE = 'BKAO1',
            HINT = 'Record a correcting entry instead; only a superuser can change or remove entries.';
END;
$$;
COMMENT ON FUNCTION bank.tg__append_only() IS
'BEFORE UPDATE/DELETE row and BEFORE TRUNCATE trigger: refuses changes to append-only tables (BKAO1).';

CREATE OR REPLACE TRIGGER _100_append_only BEFORE UPDATE OR DELETE ON bank.admin_logs
FOR EACH ROW EXECUTE FUNCTION bank.tg__append_only();
CREATE OR REPLACE TRIGGER _100_append_only_truncate BEFORE TRUNCATE ON bank.admin_logs
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__append_only();
CREATE OR REPLACE TRIGGER _100_append_only BEFORE UPDATE OR DELETE ON bank.reward_entries
FOR EACH ROW EXECUTE FUNCTION bank.tg__append_only();
CREATE OR REPLACE TRIGGER _100_append_only_truncate BEFORE TRUNCATE ON bank.reward_entries
FOR EACH STATEMENT EXECUTE FUNCTION bank.tg__append_only();
