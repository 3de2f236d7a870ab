-- Liability accounts (credit cards, loans) carry what is owed as a negative balance, so net worth
-- is the sum of all balances; assets and liabilities are shown apart. The balances in the base
-- currency are api.account_summary's: one place converts an account's balance.
CREATE OR REPLACE VIEW api.net_worth WITH (security_invoker = TRUE) AS
SELECT
    u.id AS user_id,
    u.base_currency AS currency,
    coalesce(sum(s.balance_in_base_currency) FILTER (WHERE s.account_type NOT IN ('credit_card', 'loan')), 0)
        AS assets,
    coalesce(-sum(s.balance_in_base_currency) FILTER (WHERE s.account_type IN ('credit_card', 'loan')), 0)
        AS liabilities,
    coalesce(sum(s.balance_in_base_currency), 0) AS net_worth,
    count(*) FILTER (WHERE s.id IS NOT NULL AND s.balance_in_base_currency IS NULL) AS accounts_without_rate
FROM bank.users AS u
LEFT JOIN api.account_summary AS s ON u.id = s.user_id AND s.is_active
GROUP BY u.id, u.base_currency;
COMMENT ON VIEW api.net_worth IS
'Assets minus liabilities over the active accounts, in the base currency at today''s rates; accounts_without_rate '
'counts the accounts left out for want of a rate.';
