-- Undo V002.
DROP TABLE bank.category_rules;
DROP TABLE bank.budgets;
