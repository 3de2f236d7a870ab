-- Imports a batch of transactions into one account of the acting user, set-based, with every
-- guarantee of a direct insert: rows are checked (bank.import_check), categorized by the user's
-- rules once per distinct (description, merchant), converted at one rate per distinct (currency,
-- date), and written by one INSERT ... SELECT, so PostgreSQL checks every key and constraint and
-- the statement trigger keeps totals, budgets and alerts exact. The row-level prepare trigger is
-- skipped for these rows only (its WHEN clause: current user bank_owner with bank.import on, which
-- this function sets around its INSERT, and no application can be); this computes what it would.
-- (A SET clause on the function would be neater, but only a superuser may put a custom parameter there.)
--
-- De-duplication: a row with a bank id (external_id) already in the account, whatever its date, is
-- a duplicate (bank.transaction_external_ids); a row without one is a duplicate when the account
-- already has as many transactions with its fingerprint (date, amount, direction, normalized
-- description) as the batch has up to that row, so two identical purchases on one day both import
-- once and importing the file again imports nothing. Imports into one account take turns (an
-- advisory lock), so two batches never count the same fingerprints at once.
--
-- p_partial false: one rejected row refuses the call (BKIM1, rejections in DETAIL) and nothing is
-- written; true: the valid rows import and the rejected ones are recorded in the batch.
-- SECURITY DEFINER: it writes the batch, the bank ids, import_batch_id and the derived columns,
-- which applications may not write, and creates the partitions the batch needs.
CREATE OR REPLACE FUNCTION api.import_transactions(
    p_account_id bigint,
    p_rows jsonb,
    p_source text,
    p_file_sha256 text DEFAULT NULL,
    p_partial boolean DEFAULT FALSE
)
RETURNS bank.import_batches
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A custom plan takes the batch (p_rows, the checked rows) into the plan as a constant and copies it
-- at every step of planning (measured: 3.4 s of CPU for 150,000 rows). The generic plan guesses 10
-- checked rows, so the statements below look rows up in jsonb maps and hashed subplans, which cost
-- the same whatever the planner expects, and join nothing by nested loop.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    v_currency text;
    v_base_currency text;
    v_base_minor_unit smallint;
    v_batch bank.import_batches;
    v_earlier bank.import_batches;
    v_first date;
    v_last date;
    v_month date;
    v_flag text := current_setting('bank.import', TRUE);
    v_checked bank.import_row[];
BEGIN
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'api.import_transactions: p_rows must be a JSON array of row objects, not %',
            coalesce(jsonb_typeof(p_rows), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The same refusal, in the same words, as a direct insert into an account that is not the user's.
    SELECT a.currency, u.base_currency, c.minor_unit INTO v_currency, v_base_currency, v_base_minor_unit
    FROM bank.accounts AS a
    INNER JOIN bank.users AS u ON u.id = a.user_id
    INNER JOIN bank.currencies AS c ON c.code = u.base_currency
    WHERE a.user_id = v_user_id AND a.id = p_account_id;
    IF NOT FOUND THEN
        PERFORM bank.raise_not_the_users_account(v_user_id, p_account_id);
    END IF;

    PERFORM pg_advisory_xact_lock(hashtextextended(format('bank.import_transactions %s', p_account_id), 0));
    -- The unique key refuses a file imported before; this says which batch has it (after the lock,
    -- so a batch committed while this call waited is seen).
    SELECT * INTO v_earlier FROM bank.import_batches AS b
    WHERE b.user_id = v_user_id AND b.account_id = p_account_id AND b.file_sha256 = p_file_sha256;
    IF FOUND THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "import_batches_file_sha256_key"'
            USING
                ERRCODE = 'unique_violation',
                SCHEMA = 'bank',
                TABLE = 'import_batches',
                CONSTRAINT = 'import_batches_file_sha256_key',
                DETAIL = format(
                    'The file (sha256 %s) was imported into account %s as batch %s (%s) at %s.',
                    p_file_sha256, p_account_id, v_earlier.id, v_earlier.source, v_earlier.created_at
                ),
                HINT = 'Undo that batch first (api.undo_import) to import the file again.';
    END IF;
    INSERT INTO bank.import_batches (user_id, account_id, source, file_sha256, partial)
    VALUES (v_user_id, p_account_id, p_source, p_file_sha256, p_partial)
    RETURNING * INTO v_batch;

    -- Every row checked once, kept for both uses below.
    v_checked := ARRAY(SELECT k FROM bank.import_check(p_rows, v_user_id, p_account_id, v_currency) AS k);
    -- The months the valid rows fall in get their partitions (only those: a batch from 1990 and
    -- today makes two months, not four hundred).
    FOR v_month IN
        SELECT DISTINCT date_trunc('month', d.txn_date)::date
        FROM (SELECT DISTINCT k.txn_date FROM unnest(v_checked) AS k WHERE k.rule IS NULL) AS d
    LOOP
        PERFORM bank.create_transaction_partitions(v_month, v_month);
        v_first := least(v_first, v_month);
        v_last := greatest(v_last, (v_month + interval '1 month' - interval '1 day')::date);
    END LOOP;

    -- Transaction-local, and put back below; an error undoes it with everything else.
    PERFORM set_config('bank.import', 'on', TRUE);
    WITH
    -- Every row with its place in the batch (pos, which also breaks ties of row_no), its rate and
    -- its rule. The rate is found once per distinct (currency, date) and the rule once per distinct
    -- (description, merchant), each kept in a jsonb map read per row (computed per row, the rate
    -- lookup ran for every row; joined, the generic plan looped); the base currency needs no rate.
    judged AS MATERIALIZED (
        SELECT
            x.*,
            coalesce(
                x.rule, CASE WHEN x.currency <> v_base_currency AND x.fx_rate IS NULL THEN 'exchange_rate_missing' END
            ) AS final_rule,
            coalesce(x.category, x.found_rule ->> 1) AS final_category,
            (x.found_rule ->> 0)::bigint AS category_rule_id
        FROM (
            SELECT
                k.*,
                CASE
                    WHEN k.rule IS NOT NULL THEN NULL
                    WHEN k.currency = v_base_currency THEN 1
                    ELSE ((
                        SELECT jsonb_object_agg(d.currency || ' ' || d.txn_date, d.fx_rate)
                        FROM (
                            SELECT
                                c.currency,
                                c.txn_date,
                                bank.find_exchange_rate(c.currency, v_base_currency, c.txn_date) AS fx_rate
                            FROM (
                                SELECT DISTINCT u.currency, u.txn_date FROM unnest(v_checked) AS u
                                WHERE u.rule IS NULL AND u.currency <> v_base_currency
                            ) AS c
                        ) AS d
                        WHERE d.fx_rate IS NOT NULL
                    ) ->> (k.currency || ' ' || k.txn_date))::numeric
                END AS fx_rate,
                CASE WHEN k.rule IS NULL AND k.category IS NULL THEN (
                    -- [rule id, category] by the text of [description, merchant] (NULL merchants too).
                    SELECT jsonb_object_agg(jsonb_build_array(d.description, d.merchant)::text, d.found)
                    FROM (
                        SELECT
                            c.description,
                            c.merchant,
                            (
                                SELECT jsonb_build_array(m.id, m.category)
                                FROM bank.matching_rule(v_user_id, c.description, c.merchant) AS m
                            ) AS found
                        FROM (
                            SELECT DISTINCT u.description, u.merchant FROM unnest(v_checked) AS u
                            WHERE u.rule IS NULL AND u.category IS NULL
                        ) AS c
                    ) AS d
                    WHERE d.found IS NOT NULL
                ) -> (jsonb_build_array(k.description, k.merchant)::text) END AS found_rule
            FROM unnest(v_checked) WITH ORDINALITY AS k (
                row_no, txn_date, posted_date, amount, txn_type, description, merchant, currency, category,
                external_id, rule, value, message, pos
            )
            -- OFFSET 0: each row's rate and rule are computed once, not once per mention.
            OFFSET 0
        ) AS x
    ),

    -- Duplicates by fingerprint (date, amount, direction, normalized description): how many the
    -- account already holds in the batch's months, as a map; a fresh account's is empty and no row
    -- is looked up. A row is a duplicate while its rank among the batch's rows of its fingerprint
    -- is within that count. The amount by its value (trim_scale: 12.5 and 12.50 are one).
    held AS MATERIALIZED (
        SELECT coalesce(jsonb_object_agg(h.fingerprint, h.n), '{}') AS counts
        FROM (
            SELECT
                jsonb_build_array(
                    t.txn_date, trim_scale(t.amount), t.txn_type, bank.normalized_description(t.description)
                )::text AS fingerprint,
                count(*) AS n
            FROM bank.transactions AS t
            WHERE t.user_id = v_user_id AND t.account_id = p_account_id AND t.txn_date BETWEEN v_first AND v_last
            GROUP BY 1
        ) AS h
    ),

    fingerprints AS MATERIALIZED (
        SELECT f.pos, f.fingerprint, ((SELECT h.counts FROM held AS h) ->> f.fingerprint)::bigint AS held
        FROM (
            SELECT
                j.pos,
                jsonb_build_array(
                    j.txn_date, trim_scale(j.amount), j.txn_type, bank.normalized_description(j.description)
                )::text AS fingerprint
            FROM judged AS j
            WHERE (SELECT h.counts FROM held AS h) <> '{}' AND j.final_rule IS NULL AND j.external_id IS NULL
            OFFSET 0
        ) AS f
    ),

    duplicates AS MATERIALIZED (
        SELECT x.pos
        FROM (
            SELECT f.pos, f.held, row_number() OVER (PARTITION BY f.fingerprint ORDER BY f.pos) AS rank
            FROM fingerprints AS f
            WHERE f.held IS NOT NULL
        ) AS x
        WHERE x.rank <= x.held
        UNION ALL
        -- By bank id: one the account already holds, whatever its date, or an earlier row of the batch.
        SELECT x.pos
        FROM (
            SELECT j.pos, j.external_id, row_number() OVER (PARTITION BY j.external_id ORDER BY j.pos) AS rank
            FROM judged AS j
            WHERE j.final_rule IS NULL AND j.external_id IS NOT NULL
        ) AS x
        WHERE
            x.rank > 1
            OR EXISTS (
                SELECT FROM bank.transaction_external_ids AS t
                WHERE t.user_id = v_user_id AND t.account_id = p_account_id AND t.external_id = x.external_id
            )
    ),

    -- Ids in the batch's order, as a direct INSERT of the rows would give them. NOT IN over pos (never
    -- NULL) is a hashed subplan, whatever the number of duplicates.
    to_insert AS MATERIALIZED (
        SELECT o.*, nextval('bank.transactions_id_seq'::regclass) AS id
        FROM (
            SELECT j.*
            FROM judged AS j
            WHERE j.final_rule IS NULL AND j.pos NOT IN (SELECT d.pos FROM duplicates AS d)
            ORDER BY j.pos
        ) AS o
    ),

    ids AS (
        INSERT INTO bank.transaction_external_ids (user_id, account_id, external_id, transaction_id)
        SELECT v_user_id, p_account_id, i.external_id, i.id
        FROM to_insert AS i
        WHERE i.external_id IS NOT NULL
    ),

    inserted AS (
        INSERT INTO bank.transactions (
            id, user_id, account_id, description, category, amount, currency, txn_type, merchant, txn_date,
            posted_date, is_categorized, external_id, category_rule_id, fx_rate, base_amount, import_batch_id
        ) OVERRIDING SYSTEM VALUE
        SELECT
            i.id,
            v_user_id,
            p_account_id,
            i.description,
            i.final_category,
            i.amount,
            i.currency,
            i.txn_type,
            i.merchant,
            i.txn_date,
            i.posted_date,
            i.final_category IS NOT NULL,
            i.external_id,
            i.category_rule_id,
            i.fx_rate,
            round(i.amount * i.fx_rate, v_base_minor_unit),
            v_batch.id
        FROM to_insert AS i
        -- By date: each month's partition and its indexes get their rows in key order, one after
        -- the other (measured: a quarter off the INSERT of 200,000 rows), and every foreign key is
        -- still checked row by row.
        ORDER BY i.txn_date, i.id
    )

    UPDATE bank.import_batches AS b
    SET
        inserted_count = (SELECT count(*) FROM to_insert),
        duplicate_count = (SELECT count(*) FROM duplicates),
        rejected_count = (SELECT count(*) FROM judged AS j WHERE j.final_rule IS NOT NULL),
        rejections = (
            SELECT coalesce(jsonb_agg(
                jsonb_build_object(
                    'row', j.row_no,
                    'rule', j.final_rule,
                    'value', CASE WHEN j.rule IS NULL THEN j.currency ELSE j.value END,
                    'message', coalesce(j.message, format(
                        'row %s: exchange_rate_missing: no exchange rate from %s to %s on or before %s',
                        j.row_no, j.currency, v_base_currency, j.txn_date
                    ))
                )
                ORDER BY j.row_no, j.pos
            ), '[]')
            FROM judged AS j
            WHERE j.final_rule IS NOT NULL
        )
    WHERE b.user_id = v_user_id AND b.id = v_batch.id
    RETURNING b.* INTO v_batch;
    PERFORM set_config('bank.import', coalesce(v_flag, ''), TRUE);

    IF v_batch.rejected_count > 0 AND NOT p_partial THEN
        RAISE EXCEPTION 'import refused: % of % rows rejected, nothing imported (all or none); first: %',
            v_batch.rejected_count, jsonb_array_length(p_rows), v_batch.rejections -> 0 ->> 'message'
            USING
                ERRCODE = 'BKIM1',
                DETAIL = v_batch.rejections::text,
                HINT = 'Correct the rows, or pass p_partial => true to import the valid rows and record the rest.';
    END IF;
    RETURN v_batch;
END;
$$;
COMMENT ON FUNCTION api.import_transactions(bigint, jsonb, text, text, boolean) IS
'Imports p_rows (a JSON array of row objects, docs/api.md) into the acting user''s account p_account_id as one '
'batch; returns the batch (counts, rejections). p_partial false: all or none (BKIM1); true: the valid rows import.';
