-- V014: balance history and net worth over time (issue 16, part 1).
--
-- bank.daily_flows: per user, account, day and currency, the credits, debits and count of the
-- account's transactions of that day, every kind (a transfer moves a balance as much as a
-- purchase). Kept by the totals trigger of bank.transactions (tg_transactions__monthly_totals)
-- as relative changes, so a backdated insert changes one day's row and recomputes no series.
-- In the transaction's own currency (its amount): a balance is in the account's currency, and a
-- row in another one (or before a change of the account's currency) stays apart under its code.
-- base_amount is not kept: it converts at the transaction's rate, and a balance converts at the
-- day's rate.
--
-- bank.account_balances: the balance the bank reported for an account, the day's last value
-- (kept by tg_accounts__balance_history on every INSERT and change of balance or currency).
-- Filled below with today's balance of every account: the first value known.

CREATE TABLE bank.daily_flows (
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    day date NOT NULL,
    currency text NOT NULL,
    credits numeric NOT NULL DEFAULT 0,
    debits numeric NOT NULL DEFAULT 0,
    txn_count bigint NOT NULL DEFAULT 0,
    CONSTRAINT daily_flows_pkey PRIMARY KEY (user_id, account_id, day, currency),
    CONSTRAINT daily_flows_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE,
    CONSTRAINT daily_flows_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT daily_flows_credits_finite_check CHECK (credits > '-Infinity' AND credits < 'Infinity'),
    CONSTRAINT daily_flows_debits_finite_check CHECK (debits > '-Infinity' AND debits < 'Infinity')
);
COMMENT ON TABLE bank.daily_flows IS
'Per account, day and currency: the credits, debits and count of its transactions (every kind), kept by the '
'transactions'' totals trigger. Rows whose flows went back to zero stay, at zero.';
COMMENT ON COLUMN bank.daily_flows.day IS 'The transactions'' txn_date.';
COMMENT ON COLUMN bank.daily_flows.currency IS
'The transactions'' currency (in which credits and debits are), usually the account''s.';
COMMENT ON COLUMN bank.daily_flows.credits IS 'Sum of amount of the day''s credits, in currency.';
COMMENT ON COLUMN bank.daily_flows.debits IS 'Sum of amount of the day''s debits, in currency.';

INSERT INTO bank.daily_flows (user_id, account_id, day, currency, credits, debits, txn_count)
SELECT
    t.user_id,
    t.account_id,
    t.txn_date,
    t.currency,
    coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'credit'), 0),
    coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'debit'), 0),
    count(*)
FROM bank.transactions AS t
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4;

CREATE TABLE bank.account_balances (
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    day date NOT NULL,
    currency text NOT NULL,
    balance numeric NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_balances_pkey PRIMARY KEY (user_id, account_id, day),
    CONSTRAINT account_balances_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE,
    CONSTRAINT account_balances_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT account_balances_balance_finite_check CHECK (balance > '-Infinity' AND balance < 'Infinity')
);
COMMENT ON TABLE bank.account_balances IS
'The balance each account reported, one row per day: the day''s last value of accounts.balance, kept by a '
'trigger on bank.accounts.';
COMMENT ON COLUMN bank.account_balances.day IS 'current_date of the change (the server''s TimeZone).';
COMMENT ON COLUMN bank.account_balances.currency IS 'The account''s currency then, in which balance is.';
COMMENT ON COLUMN bank.account_balances.reported_at IS 'When the day''s last change was written.';

INSERT INTO bank.account_balances (user_id, account_id, day, currency, balance)
SELECT
    a.user_id,
    a.id,
    current_date,
    a.currency,
    a.balance
FROM bank.accounts AS a
ORDER BY 1, 2;
