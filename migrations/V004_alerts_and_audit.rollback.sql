-- Undo V004.
-- CASCADE: the bank.admin_* functions return its row type. Like every function of functions/,
-- the next migrate applies them again.
DROP TABLE bank.admin_logs CASCADE;
DROP TABLE bank.alerts;
DROP TYPE bank.alert_type;
