-- The seed's query 1: a user's accounts, with each balance also in the user's base currency.
CREATE OR REPLACE VIEW api.account_summary WITH (security_invoker = TRUE) AS
SELECT
    a.user_id,
    a.id,
    a.bank_name,
    a.account_type,
    a.masked_account,
    a.balance,
    a.currency,
    u.base_currency,
    -- Most accounts are in the base currency: no rate to look up, no minor unit to round to.
    CASE
        WHEN a.currency = u.base_currency THEN a.balance
        ELSE round(
            a.balance * bank.find_exchange_rate(a.currency, u.base_currency, current_date),
            (
                SELECT c.minor_unit FROM bank.currencies AS c
                WHERE c.code = u.base_currency
            )
        )
    END AS balance_in_base_currency,
    a.low_balance_threshold,
    a.disabled_at IS NULL AS is_active,
    a.created_at
FROM bank.accounts AS a
INNER JOIN bank.users AS u ON a.user_id = u.id;
COMMENT ON VIEW api.account_summary IS
'A user''s accounts with the balance in the account''s and in the user''s base currency (today''s rate; '
'NULL when no rate exists). Newest first: ORDER BY created_at DESC.';
