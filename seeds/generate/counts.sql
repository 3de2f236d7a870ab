-- What the generator made: the generated users, their accounts and their transactions.
-- Parameters: the setting generate.email_domain.
WITH generated AS MATERIALIZED (
    SELECT id FROM bank.users
    WHERE email LIKE ('%' || current_setting('generate.email_domain'))
)

SELECT
    'users' AS what,
    count(*) AS n
FROM generated
UNION ALL
SELECT
    'accounts',
    count(*)
FROM bank.accounts AS a
INNER JOIN generated AS u ON a.user_id = u.id
UNION ALL
SELECT
    'transactions',
    count(*)
FROM bank.transactions AS t
INNER JOIN generated AS u ON t.user_id = u.id;
