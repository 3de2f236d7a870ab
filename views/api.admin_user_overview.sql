-- For bank_admin, who sees every user.
CREATE OR REPLACE VIEW api.admin_user_overview WITH (security_invoker = TRUE) AS
SELECT
    u.id AS user_id,
    u.name,
    u.email,
    u.kyc_status,
    u.is_admin,
    u.created_at,
    acc.accounts,
    acc.disabled_accounts,
    last_txn.txn_date AS last_transaction_date
FROM bank.users AS u
CROSS JOIN
    LATERAL (
        SELECT
            count(*) AS accounts,
            count(*) FILTER (WHERE a.disabled_at IS NOT NULL) AS disabled_accounts
        FROM bank.accounts AS a
        WHERE a.user_id = u.id
    ) AS acc
LEFT JOIN LATERAL (
    SELECT t.txn_date
    FROM bank.transactions AS t
    WHERE t.user_id = u.id
    ORDER BY t.txn_date DESC
    LIMIT 1
) AS last_txn ON TRUE;
COMMENT ON VIEW api.admin_user_overview IS
'For bank_admin: each user''s KYC status, accounts (and how many are disabled) and last transaction date.';
