-- V003: bills and reward programs. Weeks 5-6 of the seed's plan.

CREATE TYPE bank.bill_status AS ENUM ('upcoming', 'paid', 'overdue');

CREATE TABLE bank.bills (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    biller_name text NOT NULL,
    due_date date NOT NULL,
    amount_due numeric NOT NULL,
    currency text NOT NULL,
    status bank.bill_status NOT NULL DEFAULT 'upcoming',
    auto_pay boolean NOT NULL DEFAULT FALSE,
    last_reminder_sent timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bills_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT bills_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT bills_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT bills_biller_name_check CHECK (char_length(btrim(biller_name)) BETWEEN 1 AND 100),
    CONSTRAINT bills_amount_due_check CHECK (amount_due > 0)
);
-- A user's bills in one status by due date: overdue and upcoming bills (seed's idx_bills_user_status,
-- extended by due_date so the list comes out sorted).
CREATE INDEX bills_user_id_status_due_date_idx ON bank.bills (user_id, status, due_date);
-- Reminders and the overdue sweep scan unpaid bills by due date across users (seed's idx_bills_due_date,
-- restricted to the bills those jobs can touch).
CREATE INDEX bills_due_date_idx ON bank.bills (due_date) WHERE status <> 'paid';
COMMENT ON TABLE bank.bills IS 'Bills a user has to pay, with their due date and status.';
COMMENT ON COLUMN bank.bills.currency IS
'The currency of amount_due, which is exact in it (bills_amount_due_scale_check).';

CREATE TABLE bank.rewards (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    program_name text NOT NULL,
    points_balance bigint NOT NULL DEFAULT 0,
    last_updated timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rewards_pkey PRIMARY KEY (user_id, id),
    -- One row per user and program; also the index for a user's rewards (seed's idx_rewards_user_id).
    CONSTRAINT rewards_user_id_program_name_key UNIQUE (user_id, program_name),
    CONSTRAINT rewards_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT rewards_program_name_check CHECK (char_length(btrim(program_name)) BETWEEN 1 AND 100),
    CONSTRAINT rewards_points_balance_check CHECK (points_balance >= 0)
);
COMMENT ON TABLE bank.rewards IS 'A user''s loyalty programs and their points balance.';
COMMENT ON COLUMN bank.rewards.last_updated IS 'When the row last changed; kept by a trigger.';
