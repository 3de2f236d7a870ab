-- Copies bankdb's rows into the seed's schema (schema "seed", made by seed_schema.sql), keeping
-- every id, so both answer for the same users, accounts and months. Runs as a superuser (no row
-- security in the way). Rows keep bankdb's physical order: a user's transactions lie in the seed's
-- table as scattered as in bankdb's partitions. Times become the seed's TIMESTAMP in UTC.
INSERT INTO seed.users (id, name, email, password, phone, kyc_status, created_at, updated_at)
SELECT
    id,
    name,
    email,
    password,
    phone,
    kyc_status::text::seed.users_kyc_status,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.users;

INSERT INTO seed.accounts (
    id, user_id, bank_name, account_type, masked_account, currency, balance, created_at, updated_at
)
SELECT
    id,
    user_id,
    bank_name,
    account_type::text::seed.accounts_account_type,
    masked_account,
    currency,
    balance,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.accounts;

INSERT INTO seed.transactions (
    id, account_id, description, category, amount, currency, txn_type, merchant, txn_date, posted_date,
    is_categorized, created_at, updated_at
)
SELECT
    id,
    account_id,
    description,
    category,
    amount,
    currency,
    txn_type::text::seed.transactions_txn_type,
    merchant,
    txn_date,
    posted_date,
    is_categorized,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.transactions;

INSERT INTO seed.category_rules (
    id, user_id, category, keyword_pattern, merchant_pattern, priority, is_active, created_at, updated_at
)
SELECT
    id,
    user_id,
    category,
    keyword_pattern,
    merchant_pattern,
    priority,
    is_active,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.category_rules;

-- spent_amount is bankdb's, kept by its triggers: the seed's application would have to keep it.
INSERT INTO seed.budgets (
    id, user_id, month, year, category, limit_amount, spent_amount, created_at, updated_at
)
SELECT
    id,
    user_id,
    month,
    year,
    category,
    limit_amount,
    spent_amount,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.budgets;

INSERT INTO seed.bills (
    id, user_id, biller_name, due_date, amount_due, status, auto_pay, last_reminder_sent, created_at,
    updated_at
)
SELECT
    id,
    user_id,
    biller_name,
    due_date,
    amount_due,
    status::text::seed.bills_status,
    auto_pay,
    last_reminder_sent AT TIME ZONE 'UTC',
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.bills;

INSERT INTO seed.rewards (id, user_id, program_name, points_balance, last_updated, created_at)
SELECT
    id,
    user_id,
    program_name,
    points_balance,
    last_updated AT TIME ZONE 'UTC',
    created_at AT TIME ZONE 'UTC'
FROM bank.rewards;

-- The seed knows three alert types; bankdb's budget_warning has no place there.
INSERT INTO seed.alerts (id, user_id, type, message, is_read, created_at, updated_at)
SELECT
    id,
    user_id,
    type::text::seed.alerts_type,
    message,
    is_read,
    created_at AT TIME ZONE 'UTC',
    updated_at AT TIME ZONE 'UTC'
FROM bank.alerts
WHERE type::text IN ('low_balance', 'bill_due', 'budget_exceeded');
