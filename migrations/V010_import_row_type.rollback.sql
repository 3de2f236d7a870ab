-- Undo V010. bank.import_check returns the type, so it goes too; the next migrate applies
-- functions/ again.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.import_check(jsonb, bigint, bigint, text);
DROP TYPE bank.import_row;
