-- Generated data is replaced, never added to: the generated users go, and all they own with them.
-- Parameters: the setting generate.email_domain.
DELETE FROM bank.users
WHERE email LIKE ('%' || current_setting('generate.email_domain'));
