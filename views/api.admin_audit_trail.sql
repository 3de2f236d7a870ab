-- For bank_admin: the audit trail with the admin's name.
CREATE OR REPLACE VIEW api.admin_audit_trail WITH (security_invoker = TRUE) AS
SELECT
    l.id,
    l.timestamp,
    l.admin_id,
    u.email AS admin_email,
    l.action,
    l.target_type,
    l.target_id,
    l.details
FROM bank.admin_logs AS l
LEFT JOIN bank.users AS u ON l.admin_id = u.id;
COMMENT ON VIEW api.admin_audit_trail IS
'For bank_admin: every admin action with before and after values, newest first: ORDER BY timestamp DESC.';
