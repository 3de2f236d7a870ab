-- V003: bills and reward programs. Weeks 5-6 of the seed's plan.

CREATE TYPE bank.bill_status AS ENUM ('upcoming', 'paid', 'overdue');
CREATE TYPE bank.bill_recurrence AS ENUM ('weekly', 'monthly', 'yearly');
CREATE TYPE bank.reward_entry_type AS ENUM ('earn', 'redeem');

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
    paid_at timestamptz,
    recurrence bank.bill_recurrence,
    series_start date,
    occurrence integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bills_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT bills_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT bills_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT bills_biller_name_check CHECK (char_length(btrim(biller_name)) BETWEEN 1 AND 100),
    CONSTRAINT bills_amount_due_check CHECK (amount_due > 0),
    CONSTRAINT bills_paid_at_check CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CONSTRAINT bills_recurrence_check CHECK ((recurrence IS NULL) = (series_start IS NULL)),
    CONSTRAINT bills_occurrence_check CHECK (occurrence >= 0)
);
-- A user's bills in one status by due date: overdue and upcoming bills (seed's idx_bills_user_status,
-- extended by due_date so the list comes out sorted).
CREATE INDEX bills_user_id_status_due_date_idx ON bank.bills (user_id, status, due_date);
-- Reminders and the overdue sweep scan unpaid bills by due date across users (seed's idx_bills_due_date,
-- restricted to the bills those jobs can touch).
CREATE INDEX bills_due_date_idx ON bank.bills (due_date) WHERE status <> 'paid';
COMMENT ON TABLE bank.bills IS
'Bills a user has to pay, with their due date and status (upcoming -> paid or overdue, overdue -> paid).';
COMMENT ON COLUMN bank.bills.paid_at IS 'When the bill was marked paid; set by a trigger.';
COMMENT ON COLUMN bank.bills.recurrence IS 'A recurring bill gets its next occurrence when it is paid.';
COMMENT ON COLUMN bank.bills.series_start IS
'The first due date of a recurring series: occurrence n is due series_start + n periods (Jan 31, Feb 28, Mar 31).';
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
COMMENT ON COLUMN bank.rewards.points_balance IS
'The sum of the program''s ledger (reward_entries), kept by a trigger.';

CREATE TABLE bank.reward_entries (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    reward_id bigint NOT NULL,
    entry_type bank.reward_entry_type NOT NULL,
    points bigint NOT NULL,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reward_entries_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT reward_entries_user_id_reward_id_fkey FOREIGN KEY (user_id, reward_id)
    REFERENCES bank.rewards (user_id, id) ON DELETE CASCADE,
    CONSTRAINT reward_entries_points_check CHECK (points > 0),
    CONSTRAINT reward_entries_description_check CHECK (char_length(description) <= 200)
);
-- A program's history, newest first; also serves the foreign key's cascade.
CREATE INDEX reward_entries_user_id_reward_id_created_at_idx ON bank.reward_entries (
    user_id, reward_id, created_at DESC
);
COMMENT ON TABLE bank.reward_entries IS
'The append-only ledger of reward points: earn and redeem entries. rewards.points_balance is its sum.';
