-- Undo V002.
ALTER TABLE bank.transactions DROP CONSTRAINT transactions_user_id_category_rule_id_fkey;
DROP TABLE bank.category_rules;
DROP TABLE bank.monthly_totals;
DROP TABLE bank.budgets;
