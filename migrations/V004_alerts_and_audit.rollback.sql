-- Undo V004.
DROP TABLE bank.admin_logs;
DROP TABLE bank.alerts;
DROP TYPE bank.alert_type;
