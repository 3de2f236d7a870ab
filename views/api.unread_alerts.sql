CREATE OR REPLACE VIEW api.unread_alerts WITH (security_invoker = TRUE) AS
SELECT
    a.user_id,
    a.id,
    a.type,
    a.message,
    a.created_at
FROM bank.alerts AS a
WHERE NOT a.is_read;
COMMENT ON VIEW api.unread_alerts IS
'Alerts not read yet, newest first: ORDER BY created_at DESC. Mark one read with UPDATE bank.alerts SET is_read.';
