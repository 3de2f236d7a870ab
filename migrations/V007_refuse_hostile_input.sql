-- V007: money is a finite number and text says something. PostgreSQL's numeric accepts 'NaN',
-- 'Infinity' and '-Infinity', and every CHECK of V001-V004 lets them through (NaN > 0 and
-- Infinity > 0 are true): one NaN transaction made its month's totals NaN for good. Each money and
-- rate column now refuses them by a constraint named <table>_<column>_finite_check. A value is
-- finite when it lies strictly between -Infinity and Infinity; NaN sorts above Infinity, so it fails.
--
-- Descriptions and names had to hold a character other than ASCII spaces; a tab, a no-break space
-- or a zero-width space passed. They must now hold a visible character: one that is not white
-- space nor an invisible format character (the class below, the same in every check).
--
-- The money scale check moves from an AFTER statement trigger to the BEFORE row triggers that
-- store an amount at its currency's scale (functions/tg__money_at_scale.sql.j2 and the
-- transactions' prepare trigger): the old trigger and its function go here, as a removed
-- functions/ file's objects would otherwise stay.
--
-- Every constraint is added NOT VALID, which checks new writes at once and takes its lock only for
-- a moment; V008 validates the existing rows (and stores old transaction amounts at their scale)
-- outside this transaction, under a lock that lets reads and writes go on.

DROP TRIGGER IF EXISTS _900_check_money_scale_insert ON bank.accounts;
DROP TRIGGER IF EXISTS _900_check_money_scale_update ON bank.accounts;
DROP TRIGGER IF EXISTS _900_check_money_scale_insert ON bank.transactions;
DROP TRIGGER IF EXISTS _900_check_money_scale_update ON bank.transactions;
DROP TRIGGER IF EXISTS _900_check_money_scale_insert ON bank.bills;
DROP TRIGGER IF EXISTS _900_check_money_scale_update ON bank.bills;
-- Only triggers called it, and they are gone.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS bank.tg__check_money_scale();

ALTER TABLE bank.transactions
ADD CONSTRAINT transactions_amount_finite_check CHECK (amount < 'Infinity') NOT VALID,
ADD CONSTRAINT transactions_fx_rate_finite_check CHECK (fx_rate < 'Infinity') NOT VALID,
ADD CONSTRAINT transactions_base_amount_finite_check CHECK (
    base_amount > '-Infinity' AND base_amount < 'Infinity'
) NOT VALID,
ADD CONSTRAINT transactions_description_visible_check CHECK (
    description ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

ALTER TABLE bank.accounts
ADD CONSTRAINT accounts_balance_finite_check CHECK (balance > '-Infinity' AND balance < 'Infinity') NOT VALID,
ADD CONSTRAINT accounts_low_balance_threshold_finite_check CHECK (
    low_balance_threshold > '-Infinity' AND low_balance_threshold < 'Infinity'
) NOT VALID,
ADD CONSTRAINT accounts_bank_name_visible_check CHECK (
    bank_name ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

ALTER TABLE bank.budgets
ADD CONSTRAINT budgets_limit_amount_finite_check CHECK (limit_amount < 'Infinity') NOT VALID,
ADD CONSTRAINT budgets_spent_amount_finite_check CHECK (spent_amount < 'Infinity') NOT VALID;

ALTER TABLE bank.monthly_totals
ADD CONSTRAINT monthly_totals_spending_finite_check CHECK (
    spending > '-Infinity' AND spending < 'Infinity'
) NOT VALID,
ADD CONSTRAINT monthly_totals_income_finite_check CHECK (income > '-Infinity' AND income < 'Infinity') NOT VALID;

ALTER TABLE bank.bills
ADD CONSTRAINT bills_amount_due_finite_check CHECK (amount_due < 'Infinity') NOT VALID,
ADD CONSTRAINT bills_biller_name_visible_check CHECK (
    biller_name ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

ALTER TABLE bank.exchange_rates
ADD CONSTRAINT exchange_rates_rate_finite_check CHECK (rate < 'Infinity') NOT VALID;

ALTER TABLE bank.users
ADD CONSTRAINT users_name_visible_check CHECK (
    name ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

ALTER TABLE bank.rewards
ADD CONSTRAINT rewards_program_name_visible_check CHECK (
    program_name ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

ALTER TABLE bank.alerts
ADD CONSTRAINT alerts_message_visible_check CHECK (
    message ~ '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
) NOT VALID;

-- The seed's bills have no currency: an insert written against the seed's columns gets the
-- user's base currency from the BEFORE trigger of functions/tg__money_at_scale.sql.j2, which
-- runs before PostgreSQL checks NOT NULL.
COMMENT ON COLUMN bank.bills.currency IS
'The currency of amount_due, which is stored at its scale (bills_amount_due_scale_check); '
'the user''s base currency when an insert names none.';

-- Money already stored with more (zero) decimals than its currency has, such as 1.50000 USD,
-- is stored at the currency's scale: the same number, so no total changes.
UPDATE bank.accounts AS a
SET balance = round(a.balance, c.minor_unit)
FROM bank.currencies AS c
WHERE c.code = a.currency AND scale(a.balance) <> c.minor_unit;
UPDATE bank.bills AS b
SET amount_due = round(b.amount_due, c.minor_unit)
FROM bank.currencies AS c
WHERE c.code = b.currency AND scale(b.amount_due) <> c.minor_unit;
UPDATE bank.budgets AS b
SET limit_amount = round(b.limit_amount, c.minor_unit), spent_amount = round(b.spent_amount, c.minor_unit)
FROM bank.users AS u, bank.currencies AS c
WHERE
    u.id = b.user_id AND c.code = u.base_currency
    AND (scale(b.limit_amount) <> c.minor_unit OR scale(b.spent_amount) <> c.minor_unit);
UPDATE bank.monthly_totals AS m
SET spending = round(m.spending, c.minor_unit), income = round(m.income, c.minor_unit)
FROM bank.users AS u, bank.currencies AS c
WHERE
    u.id = m.user_id AND c.code = u.base_currency
    AND (scale(m.spending) <> c.minor_unit OR scale(m.income) <> c.minor_unit);

COMMENT ON COLUMN bank.transactions.amount IS
'Always positive and finite, stored at the scale of the transaction''s currency; txn_type gives the direction.';
COMMENT ON COLUMN bank.transactions.category_rule_id IS
'The rule that set category, set by a trigger: NULL when the category was set by hand or is not set.';
COMMENT ON COLUMN bank.transactions.is_categorized IS 'Whether category is set; set by a trigger.';
COMMENT ON COLUMN bank.bills.paid_at IS 'When the bill was marked paid; set by a trigger.';
