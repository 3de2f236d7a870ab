-- The generated users' ids in the order of their number, for the batches of transactions.
-- Parameters: the setting generate.email_domain.
SELECT id
FROM bank.users
WHERE email LIKE ('%' || current_setting('generate.email_domain'))
ORDER BY split_part(substring(email FROM 5), '@', 1)::integer;
