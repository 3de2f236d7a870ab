-- Liability accounts (credit cards, loans) carry what is owed as a negative balance, so net worth
-- is the sum of all balances; assets and liabilities are shown apart.
CREATE OR REPLACE VIEW api.net_worth WITH (security_invoker = TRUE) AS
SELECT
    u.id AS user_id,
    u.base_currency AS currency,
    coalesce(sum(x.converted) FILTER (WHERE x.account_type NOT IN ('credit_card', 'loan')), 0) AS assets,
    coalesce(-sum(x.converted) FILTER (WHERE x.account_type IN ('credit_card', 'loan')), 0) AS liabilities,
    coalesce(sum(x.converted), 0) AS net_worth,
    count(*) FILTER (WHERE x.account_type IS NOT NULL AND x.converted IS NULL) AS accounts_without_rate
FROM bank.users AS u
INNER JOIN bank.currencies AS c ON u.base_currency = c.code
LEFT JOIN LATERAL (
    SELECT
        a.account_type,
        round(a.balance * bank.find_exchange_rate(a.currency, u.base_currency, current_date), c.minor_unit)
            AS converted
    FROM bank.accounts AS a
    WHERE a.user_id = u.id AND a.disabled_at IS NULL
) AS x ON TRUE
GROUP BY u.id, u.base_currency;
COMMENT ON VIEW api.net_worth IS
'Assets minus liabilities over the active accounts, in the base currency at today''s rates; accounts_without_rate '
'counts the accounts left out for want of a rate.';
