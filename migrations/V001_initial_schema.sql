-- V001: users, their linked accounts and transactions, and the lookups they refer to
-- (currencies, exchange rates, categories). Weeks 1-2 of the seed's plan.
--
-- Every user-owned table carries user_id, has it first in its primary key, and points at other
-- user-owned rows through (user_id, id): no row can reference another user's row, row-level
-- security needs no join, and the schema can be distributed by user_id later.

CREATE SCHEMA bank;
COMMENT ON SCHEMA bank IS 'Tables, internal functions and trigger functions. Applications read the api schema.';

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS 'The public contract: views and functions applications call.';

CREATE SCHEMA bank_partitions;
COMMENT ON SCHEMA bank_partitions IS
'Monthly partitions of bank.transactions. Reached only through their parent, whose keys, triggers and policies apply.';

CREATE TYPE bank.kyc_status AS ENUM ('unverified', 'verified');
CREATE TYPE bank.account_type AS ENUM ('savings', 'checking', 'credit_card', 'loan', 'investment');
CREATE TYPE bank.txn_type AS ENUM ('debit', 'credit');
CREATE TYPE bank.txn_kind AS ENUM ('regular', 'transfer', 'card_payment', 'loan_payment');
COMMENT ON TYPE bank.txn_kind IS
'Only regular transactions are spending or income; transfers between a user''s own accounts and card or loan '
'payments never are.';

CREATE SEQUENCE bank.transfer_id_seq AS bigint;
COMMENT ON SEQUENCE bank.transfer_id_seq IS 'The ids shared by the two sides of a transfer (transactions.transfer_id).';

-- Lookups ---------------------------------------------------------------------------------------

CREATE TABLE bank.currencies (
    code text NOT NULL,
    numeric_code text NOT NULL,
    name text NOT NULL,
    minor_unit smallint NOT NULL,
    CONSTRAINT currencies_pkey PRIMARY KEY (code),
    CONSTRAINT currencies_code_check CHECK (code ~ '^[A-Z]{3}$'),
    CONSTRAINT currencies_numeric_code_check CHECK (numeric_code ~ '^[0-9]{3}$'),
    CONSTRAINT currencies_minor_unit_check CHECK (minor_unit BETWEEN 0 AND 4)
);
COMMENT ON TABLE bank.currencies IS 'ISO 4217 currencies. Every amount is checked against its currency''s minor unit.';
COMMENT ON COLUMN bank.currencies.minor_unit IS
'Decimals the currency allows (JPY 0, USD 2, KWD 3). An amount with more is rejected, never rounded.';

CREATE TABLE bank.exchange_rates (
    base_currency text NOT NULL,
    quote_currency text NOT NULL,
    rate_date date NOT NULL,
    rate numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exchange_rates_pkey PRIMARY KEY (base_currency, quote_currency, rate_date),
    CONSTRAINT exchange_rates_base_currency_fkey FOREIGN KEY (base_currency) REFERENCES bank.currencies (code),
    CONSTRAINT exchange_rates_quote_currency_fkey FOREIGN KEY (quote_currency) REFERENCES bank.currencies (code),
    CONSTRAINT exchange_rates_check CHECK (base_currency <> quote_currency),
    CONSTRAINT exchange_rates_rate_check CHECK (rate > 0)
);
COMMENT ON TABLE bank.exchange_rates IS
'Date-effective rates: 1 base_currency = rate quote_currency from rate_date until the next rate of the pair.';

CREATE TABLE bank.category_master (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    description text,
    icon text,
    color text,
    CONSTRAINT category_master_pkey PRIMARY KEY (id),
    CONSTRAINT category_master_name_key UNIQUE (name),
    CONSTRAINT category_master_name_check CHECK (char_length(name) BETWEEN 1 AND 50),
    CONSTRAINT category_master_icon_check CHECK (char_length(icon) <= 50),
    CONSTRAINT category_master_color_check CHECK (color ~ '^#[0-9A-Fa-f]{6}$')
);
COMMENT ON TABLE bank.category_master IS
'The categories transactions, budgets and rules use, by name (icon and color are for the UI).';

-- Users and accounts ----------------------------------------------------------------------------

CREATE TABLE bank.users (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    email text NOT NULL,
    password text NOT NULL,
    phone text,
    kyc_status bank.kyc_status NOT NULL DEFAULT 'unverified',
    base_currency text NOT NULL DEFAULT 'USD',
    is_admin boolean NOT NULL DEFAULT FALSE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_base_currency_fkey FOREIGN KEY (base_currency) REFERENCES bank.currencies (code),
    CONSTRAINT users_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    CONSTRAINT users_email_check CHECK (char_length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    -- A bcrypt hash ($2a$/$2b$/$2y$, cost 04-31, 53 characters of salt and hash): no plaintext fits.
    CONSTRAINT users_password_check CHECK (password ~ '^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$'),
    CONSTRAINT users_phone_check CHECK (phone ~ '^\+?[0-9][0-9 ().-]{3,19}$')
);
-- Unique regardless of letter case: Alice@Example.com and alice@example.com are one login.
-- It also serves the login lookup (WHERE lower(email) = lower($1)), replacing the seed's idx_users_email.
CREATE UNIQUE INDEX users_email_key ON bank.users (lower(email));
COMMENT ON TABLE bank.users IS 'People who use the dashboard: profile, credentials, KYC status.';
COMMENT ON COLUMN bank.users.password IS 'A bcrypt hash, never the password itself (users_password_check).';
COMMENT ON COLUMN bank.users.base_currency IS 'The currency totals and budgets are kept in.';
COMMENT ON COLUMN bank.users.is_admin IS 'May act through the bank.admin_* functions; each action is logged.';

CREATE TABLE bank.accounts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    bank_name text NOT NULL,
    account_type bank.account_type NOT NULL,
    masked_account text NOT NULL,
    currency text NOT NULL,
    balance numeric NOT NULL DEFAULT 0,
    low_balance_threshold numeric,
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT accounts_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT accounts_bank_name_check CHECK (char_length(btrim(bank_name)) BETWEEN 1 AND 100),
    -- Only the last four digits may be stored: '****1234'.
    CONSTRAINT accounts_masked_account_check CHECK (masked_account ~ '^\*{2,12}[0-9]{4}$')
);
COMMENT ON TABLE bank.accounts IS 'A user''s linked bank accounts, with the balance in the account''s currency.';
COMMENT ON COLUMN bank.accounts.masked_account IS
'Asterisks and the last four digits; the full number is never stored.';
COMMENT ON COLUMN bank.accounts.balance IS 'Exact in the account''s currency (accounts_balance_scale_check).';
COMMENT ON COLUMN bank.accounts.low_balance_threshold IS
'A low_balance alert fires when the balance falls below it (in the account''s currency); NULL for none.';
COMMENT ON COLUMN bank.accounts.disabled_at IS 'When an admin disabled the account; NULL while it is active.';

-- Transactions ----------------------------------------------------------------------------------

CREATE TABLE bank.transactions (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    description text NOT NULL,
    category text,
    amount numeric NOT NULL,
    currency text NOT NULL,
    txn_type bank.txn_type NOT NULL,
    merchant text,
    txn_date date NOT NULL,
    posted_date date,
    is_categorized boolean NOT NULL DEFAULT FALSE,
    external_id text,
    kind bank.txn_kind NOT NULL DEFAULT 'regular',
    transfer_id bigint,
    category_rule_id bigint,
    fx_rate numeric NOT NULL,
    base_amount numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- txn_date is in every key because PostgreSQL requires the partition key in them.
    CONSTRAINT transactions_pkey PRIMARY KEY (user_id, txn_date, id),
    CONSTRAINT transactions_account_id_external_id_key UNIQUE (user_id, account_id, external_id, txn_date),
    CONSTRAINT transactions_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE,
    CONSTRAINT transactions_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT transactions_category_fkey FOREIGN KEY (category)
    REFERENCES bank.category_master (name) ON UPDATE CASCADE,
    CONSTRAINT transactions_amount_check CHECK (amount > 0),
    CONSTRAINT transactions_description_check CHECK (char_length(btrim(description)) BETWEEN 1 AND 255),
    CONSTRAINT transactions_merchant_check CHECK (char_length(merchant) <= 100),
    CONSTRAINT transactions_external_id_check CHECK (char_length(external_id) BETWEEN 1 AND 200),
    CONSTRAINT transactions_fx_rate_check CHECK (fx_rate > 0),
    CONSTRAINT transactions_transfer_id_check CHECK ((kind = 'transfer') = (transfer_id IS NOT NULL))
) PARTITION BY RANGE (txn_date);
-- The transactions of one account over a date range; also serves the foreign key's cascade.
-- It replaces the seed's (account_id, txn_date) and account_id indexes.
CREATE INDEX transactions_user_id_account_id_txn_date_idx ON bank.transactions (user_id, account_id, txn_date);
COMMENT ON TABLE bank.transactions IS
'Every transaction of every account, partitioned by month of txn_date into bank_partitions.transactions_YYYY_MM.';
COMMENT ON COLUMN bank.transactions.amount IS
'Always positive, exact in the transaction''s currency; txn_type gives the direction.';
COMMENT ON COLUMN bank.transactions.txn_date IS
'The booking date the bank reports: a calendar date, so the month it counts in never depends on a time zone.';
COMMENT ON COLUMN bank.transactions.external_id IS
'The bank''s own id of the transaction, for import de-duplication: unique per account and date.';
COMMENT ON COLUMN bank.transactions.kind IS 'Only regular transactions count as spending or income.';
COMMENT ON COLUMN bank.transactions.transfer_id IS
'Shared by the two sides of a transfer between the user''s own accounts (bank.link_transfer).';
COMMENT ON COLUMN bank.transactions.category_rule_id IS
'The rule that set category; NULL when the category was set by hand or is not set.';
COMMENT ON COLUMN bank.transactions.fx_rate IS
'The rate that converted amount into the user''s base currency on txn_date (1 when the same); set by a trigger.';
COMMENT ON COLUMN bank.transactions.base_amount IS
'amount in the user''s base currency: amount * fx_rate, rounded to that currency''s minor unit; set by a trigger.';
