-- Every generated user files markets and grocers under groceries.
-- Parameters: the setting generate.email_domain.
INSERT INTO bank.category_rules (user_id, category, merchant_pattern, priority)
SELECT
    id,
    'Groceries',
    'market|grocer',
    1
FROM bank.users
WHERE email LIKE ('%' || current_setting('generate.email_domain'));
