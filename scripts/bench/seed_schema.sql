-- The seed document's schema (../shared/seed/banking-database-design.md, "Complete Database Schema"),
-- copied as written, for the benchmark to compare bankdb with. Changed only where PostgreSQL rejects
-- it, each change marked "bankdb:". Not linted: it is the seed's text, not ours.

-- bankdb: PostgreSQL has no inline ENUM; the same values as a type.
CREATE TYPE users_kyc_status AS ENUM ('unverified', 'verified');
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(100) UNIQUE NOT NULL,
    password VARCHAR(255) NOT NULL,  -- bcrypt hash
    phone VARCHAR(20),
    kyc_status users_kyc_status DEFAULT 'unverified',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_users_email ON users(email);

-- bankdb: PostgreSQL has no inline ENUM; the same values as a type.
CREATE TYPE accounts_account_type AS ENUM ('savings', 'checking', 'credit_card', 'loan', 'investment');
CREATE TABLE accounts (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    bank_name VARCHAR(100) NOT NULL,
    account_type accounts_account_type,
    masked_account VARCHAR(50) NOT NULL,  -- e.g., "****1234"
    currency CHAR(3) NOT NULL,  -- ISO 4217 code (USD, EUR, etc.)
    balance NUMERIC(15,2) NOT NULL DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_accounts_user_id ON accounts(user_id);
CREATE INDEX idx_accounts_created_at ON accounts(created_at);

-- bankdb: PostgreSQL has no inline ENUM; the same values as a type.
CREATE TYPE transactions_txn_type AS ENUM ('debit', 'credit');
CREATE TABLE transactions (
    id SERIAL PRIMARY KEY,
    account_id INT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    description VARCHAR(255) NOT NULL,
    category VARCHAR(50),  -- e.g., 'Groceries', 'Utilities', 'Entertainment'
    amount NUMERIC(15,2) NOT NULL,
    currency CHAR(3) NOT NULL,
    txn_type transactions_txn_type NOT NULL,
    merchant VARCHAR(100),
    txn_date TIMESTAMP NOT NULL,
    posted_date TIMESTAMP,
    is_categorized BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_transactions_account_id ON transactions(account_id);
CREATE INDEX idx_transactions_txn_date ON transactions(txn_date);
CREATE INDEX idx_transactions_merchant ON transactions(merchant);
CREATE INDEX idx_transactions_category ON transactions(category);
CREATE INDEX idx_transactions_account_txn_date ON transactions(account_id, txn_date);

CREATE TABLE category_rules (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category VARCHAR(50) NOT NULL,
    keyword_pattern VARCHAR(255),  -- regex pattern for description matching
    merchant_pattern VARCHAR(255),  -- regex pattern for merchant matching
    priority INT DEFAULT 0,  -- higher priority rules applied first
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_category_rules_user_id ON category_rules(user_id);
CREATE INDEX idx_category_rules_active ON category_rules(is_active);

CREATE TABLE budgets (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    month INT NOT NULL CHECK (month >= 1 AND month <= 12),
    year INT NOT NULL,
    category VARCHAR(50) NOT NULL,
    limit_amount NUMERIC(15,2) NOT NULL,
    spent_amount NUMERIC(15,2) DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, month, year, category)
);

CREATE INDEX idx_budgets_user_id ON budgets(user_id);
CREATE INDEX idx_budgets_month_year ON budgets(year, month);
CREATE INDEX idx_budgets_user_month_year ON budgets(user_id, year, month);

-- bankdb: PostgreSQL has no inline ENUM; the same values as a type.
CREATE TYPE bills_status AS ENUM ('upcoming', 'paid', 'overdue');
CREATE TABLE bills (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    biller_name VARCHAR(100) NOT NULL,
    due_date DATE NOT NULL,
    amount_due NUMERIC(15,2) NOT NULL,
    status bills_status DEFAULT 'upcoming',
    auto_pay BOOLEAN DEFAULT FALSE,
    last_reminder_sent TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_bills_user_id ON bills(user_id);
CREATE INDEX idx_bills_due_date ON bills(due_date);
CREATE INDEX idx_bills_status ON bills(status);
CREATE INDEX idx_bills_user_status ON bills(user_id, status);

CREATE TABLE rewards (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    program_name VARCHAR(100) NOT NULL,
    points_balance INT NOT NULL DEFAULT 0,
    last_updated TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, program_name)
);

CREATE INDEX idx_rewards_user_id ON rewards(user_id);

-- bankdb: PostgreSQL has no inline ENUM; the same values as a type.
CREATE TYPE alerts_type AS ENUM ('low_balance', 'bill_due', 'budget_exceeded');
CREATE TABLE alerts (
    id SERIAL PRIMARY KEY,
    user_id INT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type alerts_type NOT NULL,
    message TEXT NOT NULL,
    is_read BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_alerts_user_id ON alerts(user_id);
CREATE INDEX idx_alerts_type ON alerts(type);
CREATE INDEX idx_alerts_created_at ON alerts(created_at DESC);
CREATE INDEX idx_alerts_user_unread ON alerts(user_id, is_read);

CREATE TABLE admin_logs (
    id SERIAL PRIMARY KEY,
    -- bankdb: NOT NULL dropped: ON DELETE SET NULL cannot set a NOT NULL column to NULL.
    admin_id INT REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,  -- e.g., "verified_user", "disabled_account"
    target_type VARCHAR(50),  -- e.g., 'User', 'Account', 'Transaction'
    target_id INT,  -- ID of affected record
    details JSONB,  -- Additional context (optional)
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_admin_logs_admin_id ON admin_logs(admin_id);
CREATE INDEX idx_admin_logs_timestamp ON admin_logs(timestamp DESC);
CREATE INDEX idx_admin_logs_action ON admin_logs(action);

CREATE TABLE category_master (
    id SERIAL PRIMARY KEY,
    name VARCHAR(50) UNIQUE NOT NULL,
    description TEXT,
    icon VARCHAR(50),  -- icon name for UI
    color VARCHAR(7)   -- hex color for UI
);

CREATE INDEX idx_category_master_name ON category_master(name);

-- Sample data
INSERT INTO category_master (name, description, icon, color) VALUES
('Groceries', 'Food & grocery purchases', 'shopping_cart', '#FF6B6B'),
('Utilities', 'Electric, water, gas bills', 'lightning', '#4ECDC4'),
('Entertainment', 'Movies, games, dining', 'film', '#45B7D1'),
('Transportation', 'Gas, transit, parking', 'car', '#F7DC6F'),
('Healthcare', 'Medical, pharmacy', 'health', '#BB8FCE'),
('Shopping', 'Retail, online purchases', 'bag', '#85C1E2'),
('Subscriptions', 'SaaS, streaming, memberships', 'layers', '#F8B88B'),
('Salary', 'Income', 'trending_up', '#52C41A'),
('Transfer', 'Inter-account transfers', 'swap', '#1890FF'),
('Other', 'Uncategorized', 'more_horiz', '#BFBFBF');
