-- V013: statement reconciliation and recurring payments found (issue 16, parts 2 and 3).
--
-- bank.statements: a bank statement of one account, its period and the opening and closing
-- balances the bank printed. No two statements of one account overlap: an exclusion constraint,
-- which needs btree_gist for the equality of user_id and account_id in a GiST index (a trusted
-- extension shipped with PostgreSQL's contrib: bank_owner may create it; in schema public, as
-- pg_stat_statements, so that none of its functions lands in bank). user_id with = is in the
-- constraint, as Citus requires of an exclusion constraint on a distributed table.
--
-- transactions.statement_id: the statement that reconciled the row (api.reconcile_statement).
-- A column rather than a link table: the trigger that keeps a reconciled row's amount, direction,
-- date and account unchanged reads it from OLD in its WHEN clause, so an update or delete of an
-- unreconciled row (nearly all of them) calls no function and reads no other table; a link table
-- would cost an index probe on every update and delete of a transaction. Nullable with no default:
-- only the catalog changes, no partition is rewritten. No foreign key, as for import_batch_id
-- (V009): on the partitioned table it would be validated by a scan of every partition under a lock
-- that blocks writes. Only the reconcile functions write it (bank_app has no privilege on the
-- column) and a reconciled statement cannot be deleted while its account exists, so it never
-- dangles; a reconciled row cannot change its date, so it never moves to another partition.
--
-- bank.recurring_candidates: series of payments found by bank.find_recurring_candidates, one per
-- user, normalized merchant, recurrence and currency (the unique key the job upserts on), proposed
-- until the user accepts one (a recurring bill is made) or dismisses it (it stays dismissed).

CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public;

CREATE TABLE bank.statements (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    account_id bigint NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    currency text NOT NULL,
    opening_balance numeric NOT NULL,
    closing_balance numeric NOT NULL,
    reconciled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT statements_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT statements_user_id_account_id_fkey FOREIGN KEY (user_id, account_id)
    REFERENCES bank.accounts (user_id, id) ON DELETE CASCADE,
    CONSTRAINT statements_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT statements_period_check CHECK (period_end >= period_start),
    CONSTRAINT statements_opening_balance_finite_check CHECK (
        opening_balance > '-Infinity' AND opening_balance < 'Infinity'
    ),
    CONSTRAINT statements_closing_balance_finite_check CHECK (
        closing_balance > '-Infinity' AND closing_balance < 'Infinity'
    ),
    -- Both ends are days of the period: March is 2025-03-01 to 2025-03-31, April starts on 04-01.
    -- Its GiST index also serves an account's statements and the accounts' cascade.
    CONSTRAINT statements_account_id_period_excl EXCLUDE USING gist (
        user_id WITH =, account_id WITH =, daterange(period_start, period_end, '[]') WITH &&
    )
);
COMMENT ON TABLE bank.statements IS
'Bank statements of an account: period and the balances the bank printed. Reconciled by api.reconcile_statement; '
'no two statements of one account overlap (statements_account_id_period_excl).';
COMMENT ON COLUMN bank.statements.period_start IS 'The first day of the period (included).';
COMMENT ON COLUMN bank.statements.period_end IS 'The last day of the period (included).';
COMMENT ON COLUMN bank.statements.currency IS
'The account''s currency when the statement was written, in which both balances are; set by a trigger.';
COMMENT ON COLUMN bank.statements.opening_balance IS
'The balance at the start of the period as the bank printed it, at the currency''s scale '
'(statements_opening_balance_scale_check).';
COMMENT ON COLUMN bank.statements.closing_balance IS
'The balance at the end of the period as the bank printed it, at the currency''s scale '
'(statements_closing_balance_scale_check).';
COMMENT ON COLUMN bank.statements.reconciled_at IS
'When api.reconcile_statement found closing - opening equal to the period''s credits - debits; NULL while it is not.';

-- Nullable with no default: a change of the catalog only.
ALTER TABLE bank.transactions ADD COLUMN statement_id bigint;
COMMENT ON COLUMN bank.transactions.statement_id IS
'The statement (bank.statements.id, same user) that reconciled the row; its amount, direction, currency, date and '
'account cannot change meanwhile. Written only by api.reconcile_statement and api.unreconcile_statement.';

CREATE TYPE bank.recurring_candidate_status AS ENUM ('proposed', 'accepted', 'dismissed');

CREATE TABLE bank.recurring_candidates (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    merchant_key text NOT NULL,
    recurrence bank.bill_recurrence NOT NULL,
    currency text NOT NULL,
    merchant text NOT NULL,
    typical_amount numeric NOT NULL,
    occurrences integer NOT NULL,
    first_date date NOT NULL,
    last_date date NOT NULL,
    next_expected_date date NOT NULL,
    status bank.recurring_candidate_status NOT NULL DEFAULT 'proposed',
    bill_id bigint,
    detected_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CONSTRAINT recurring_candidates_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT recurring_candidates_merchant_key_recurrence_currency_key UNIQUE (
        user_id, merchant_key, recurrence, currency
    ),
    CONSTRAINT recurring_candidates_user_id_fkey FOREIGN KEY (user_id) REFERENCES bank.users (id) ON DELETE CASCADE,
    CONSTRAINT recurring_candidates_currency_fkey FOREIGN KEY (currency) REFERENCES bank.currencies (code),
    CONSTRAINT recurring_candidates_typical_amount_check CHECK (typical_amount > 0 AND typical_amount < 'Infinity'),
    CONSTRAINT recurring_candidates_occurrences_check CHECK (occurrences >= 2),
    CONSTRAINT recurring_candidates_dates_check CHECK (first_date < last_date AND last_date < next_expected_date),
    CONSTRAINT recurring_candidates_bill_id_check CHECK ((status = 'accepted') = (bill_id IS NOT NULL)),
    CONSTRAINT recurring_candidates_decided_at_check CHECK ((status = 'proposed') = (decided_at IS NULL))
);
COMMENT ON TABLE bank.recurring_candidates IS
'Recurring payments found in the history by bank.find_recurring_candidates: one row per user, normalized merchant, '
'recurrence and currency, proposed until accepted (a recurring bill) or dismissed (never proposed again).';
COMMENT ON COLUMN bank.recurring_candidates.merchant_key IS
'bank.normalized_description of the merchant, or of the description when the merchant is empty.';
COMMENT ON COLUMN bank.recurring_candidates.merchant IS
'The merchant (or description) as the latest payment of the series wrote it; the bill''s biller name.';
COMMENT ON COLUMN bank.recurring_candidates.typical_amount IS
'The median amount of the series'' payments (the lower one of an even count), in currency.';
COMMENT ON COLUMN bank.recurring_candidates.next_expected_date IS 'last_date plus one period of recurrence.';
COMMENT ON COLUMN bank.recurring_candidates.bill_id IS
'The bill (bank.bills.id, same user) that accepting made: the first of its series. Not a key: the bill may be '
'deleted since, and the candidate stays accepted.';
COMMENT ON COLUMN bank.recurring_candidates.detected_at IS 'When the job last found the series.';
COMMENT ON COLUMN bank.recurring_candidates.decided_at IS 'When the user accepted or dismissed it.';
