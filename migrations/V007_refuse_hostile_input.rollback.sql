-- Undo V007: its constraints go. Amounts it stored at their currency's scale stay so (the same
-- numbers), and the money scale check stays with the triggers of functions/.
ALTER TABLE bank.transactions
DROP CONSTRAINT transactions_amount_finite_check,
DROP CONSTRAINT transactions_fx_rate_finite_check,
DROP CONSTRAINT transactions_base_amount_finite_check,
DROP CONSTRAINT transactions_description_visible_check;
ALTER TABLE bank.accounts
DROP CONSTRAINT accounts_balance_finite_check,
DROP CONSTRAINT accounts_low_balance_threshold_finite_check,
DROP CONSTRAINT accounts_bank_name_visible_check;
ALTER TABLE bank.budgets
DROP CONSTRAINT budgets_limit_amount_finite_check,
DROP CONSTRAINT budgets_spent_amount_finite_check;
ALTER TABLE bank.monthly_totals
DROP CONSTRAINT monthly_totals_spending_finite_check,
DROP CONSTRAINT monthly_totals_income_finite_check;
ALTER TABLE bank.bills
DROP CONSTRAINT bills_amount_due_finite_check,
DROP CONSTRAINT bills_biller_name_visible_check;
ALTER TABLE bank.exchange_rates DROP CONSTRAINT exchange_rates_rate_finite_check;
ALTER TABLE bank.users DROP CONSTRAINT users_name_visible_check;
ALTER TABLE bank.rewards DROP CONSTRAINT rewards_program_name_visible_check;
ALTER TABLE bank.alerts DROP CONSTRAINT alerts_message_visible_check;
COMMENT ON COLUMN bank.bills.currency IS
'The currency of amount_due, which is exact in it (bills_amount_due_scale_check).';
COMMENT ON COLUMN bank.transactions.amount IS
'Always positive, exact in the transaction''s currency; txn_type gives the direction.';
COMMENT ON COLUMN bank.transactions.category_rule_id IS
'The rule that set category; NULL when the category was set by hand or is not set.';
COMMENT ON COLUMN bank.transactions.is_categorized IS NULL;
COMMENT ON COLUMN bank.bills.paid_at IS 'When the bill was marked paid; set by a trigger.';
