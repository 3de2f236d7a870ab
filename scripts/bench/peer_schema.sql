-- The fair peer's own tables (schema "peer"), beside the seed's: what an application doing bankdb's
-- work on the seed's schema needs and the seed's schema lacks. Rules are the seed's own
-- category_rules; budgets.spent_amount is the seed's own column. Filled from bankdb's rows after the
-- seed's copy (load_seed.sql), as a superuser; bench_seed reads and writes them.
CREATE SCHEMA peer;
COMMENT ON SCHEMA peer IS
'The benchmark''s fair peer (scripts/bench.py): the seed''s schema plus what its application needs; not bankdb.';

-- The user's base currency (the seed's users table has none).
CREATE TABLE peer.user_settings (
    user_id integer NOT NULL,
    base_currency char(3) NOT NULL,
    CONSTRAINT user_settings_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_settings_user_id_fkey FOREIGN KEY (user_id) REFERENCES seed.users (id) ON DELETE CASCADE
);

-- The minor unit a base amount is rounded to.
CREATE TABLE peer.currencies (
    code char(3) NOT NULL,
    minor_unit smallint NOT NULL,
    CONSTRAINT currencies_pkey PRIMARY KEY (code)
);

-- Daily rates, read as the latest direct rate on or before the date.
CREATE TABLE peer.exchange_rates (
    base_currency char(3) NOT NULL,
    quote_currency char(3) NOT NULL,
    rate_date date NOT NULL,
    rate numeric NOT NULL,
    CONSTRAINT exchange_rates_pkey PRIMARY KEY (base_currency, quote_currency, rate_date)
);

-- Per user, month and category, in the base currency: what the dashboard's spending reads.
CREATE TABLE peer.monthly_totals (
    user_id integer NOT NULL,
    month date NOT NULL,
    category varchar(50) NOT NULL,
    spending numeric NOT NULL,
    income numeric NOT NULL,
    txn_count bigint NOT NULL,
    CONSTRAINT monthly_totals_pkey PRIMARY KEY (user_id, month, category)
);

-- Per user, account, day and currency, in the transaction's currency: what a balance history reads
-- (bankdb keeps the same in bank.daily_flows).
CREATE TABLE peer.daily_flows (
    user_id integer NOT NULL,
    account_id integer NOT NULL,
    day date NOT NULL,
    currency char(3) NOT NULL,
    credits numeric NOT NULL,
    debits numeric NOT NULL,
    txn_count bigint NOT NULL,
    CONSTRAINT daily_flows_pkey PRIMARY KEY (user_id, account_id, day, currency)
);

INSERT INTO peer.user_settings (user_id, base_currency)
SELECT
    id,
    base_currency
FROM bank.users;

INSERT INTO peer.currencies (code, minor_unit)
SELECT
    code,
    minor_unit
FROM bank.currencies;

INSERT INTO peer.exchange_rates (base_currency, quote_currency, rate_date, rate)
SELECT
    base_currency,
    quote_currency,
    rate_date,
    rate
FROM bank.exchange_rates;

INSERT INTO peer.monthly_totals (user_id, month, category, spending, income, txn_count)
SELECT
    user_id,
    month,
    category,
    spending,
    income,
    txn_count
FROM bank.monthly_totals;

INSERT INTO peer.daily_flows (user_id, account_id, day, currency, credits, debits, txn_count)
SELECT
    user_id,
    account_id,
    day,
    currency,
    credits,
    debits,
    txn_count
FROM bank.daily_flows;
