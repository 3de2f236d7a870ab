-- V004: alerts and the admin audit trail. Weeks 7-8 of the seed's plan.

CREATE TYPE bank.alert_type AS ENUM ('low_balance', 'bill_due', 'budget_exceeded', 'budget_warning');

CREATE TABLE bank.alerts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    type bank.alert_type NOT NULL,
    message text NOT NULL,
    is_read boolean NOT NULL DEFAULT FALSE,
    subject_id bigint,
    period date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alerts_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT alerts_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    -- One alert per subject (budget, account, bill), type and period.
    CONSTRAINT alerts_user_id_type_subject_id_period_key UNIQUE (user_id, type, subject_id, period),
    CONSTRAINT alerts_message_check CHECK (char_length(btrim(message)) BETWEEN 1 AND 1000)
);
-- A user's unread alerts, newest first: the seed's idx_alerts_user_unread, made partial so read
-- alerts (most of the table, after a while) cost it nothing.
CREATE INDEX alerts_user_id_unread_idx ON bank.alerts (user_id, created_at DESC) WHERE NOT is_read;
COMMENT ON TABLE bank.alerts IS 'Notifications for a user: low balance, bill due, budget warning and exceeded.';
COMMENT ON COLUMN bank.alerts.subject_id IS 'The budget, account or bill the alert is about.';
COMMENT ON COLUMN bank.alerts.period IS
'The budget''s month, the day of a low balance, or the bill''s due date: one alert per subject, type and period.';

CREATE TABLE bank.admin_logs (
    id bigint GENERATED ALWAYS AS IDENTITY,
    -- Nullable: the seed's NOT NULL contradicted its own ON DELETE SET NULL.
    admin_id bigint,
    action text NOT NULL,
    target_type text,
    target_id bigint,
    details jsonb,
    timestamp timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_logs_pkey PRIMARY KEY (id),
    CONSTRAINT admin_logs_admin_id_fkey FOREIGN KEY (admin_id) REFERENCES bank.users (id) ON DELETE SET NULL,
    CONSTRAINT admin_logs_action_check CHECK (action ~ '^[a-z][a-z0-9_]{0,62}$'),
    CONSTRAINT admin_logs_target_type_check CHECK (char_length(target_type) BETWEEN 1 AND 50)
);
-- An admin's actions, newest first; also serves ON DELETE SET NULL (seed's idx_admin_logs_admin_id).
CREATE INDEX admin_logs_admin_id_timestamp_idx ON bank.admin_logs (admin_id, timestamp DESC);
-- The chronological audit trail (seed's idx_admin_logs_timestamp).
CREATE INDEX admin_logs_timestamp_idx ON bank.admin_logs (timestamp DESC);
-- The trail filtered by action, newest first (seed's idx_admin_logs_action).
CREATE INDEX admin_logs_action_timestamp_idx ON bank.admin_logs (action, timestamp DESC);
COMMENT ON TABLE bank.admin_logs IS
'The append-only audit trail of admin actions, with before and after values in details.';
COMMENT ON COLUMN bank.admin_logs.admin_id IS 'The admin who acted; NULL once that user is deleted.';
