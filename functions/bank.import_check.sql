-- The rows of an import batch (a jsonb array of objects), parsed and checked one by one: each row
-- comes back typed, or with the first rule it breaks, the offending value and a message naming
-- both. Every rule a direct insert would enforce is checked here first, so one bad row is reported
-- with its number instead of failing the batch's single INSERT; PostgreSQL still checks every key
-- and constraint on that INSERT. The exchange rate, the category rules and de-duplication need the
-- whole batch: api.import_transactions does them. A row the caller's file reader could not make
-- sense of (a CSV line with too few fields, an OFX transaction its library refuses) comes with
-- "unreadable": the reason, and is rejected as import_row_format with it.
--
-- It runs for every imported row, so each step is the cheap form that was measured (200,000 rows:
-- 8 µs of CPU a row before, 3 after): one level of subquery per step, each computing its columns
-- once a row (no LATERAL: the planner put a Memoize, which hashed every row's jsonb, on each); the
-- currencies' minor units and the category names read once, as two jsonb objects, and looked up per
-- row, not joined (expecting 100 rows, the planner rebuilt a hash per row); a date checked by its
-- format and its month's length in integers (make_date and interval arithmetic cost 2 µs a row), a
-- posted_date equal to txn_date not parsed twice; a valid row passes one conjunction of cheap tests,
-- and only a row that fails it is searched for a nested field (jsonpath, 2 µs) and gets its rule,
-- value and message worked out.
CREATE OR REPLACE FUNCTION bank.import_check(p_rows jsonb, p_user_id bigint, p_account_id bigint, p_currency text)
RETURNS SETOF bank.import_row
LANGUAGE sql
STABLE
AS $$
    SELECT
        c.row_no,
        c.txn_date,
        c.posted_date,
        -- Stored at its currency's scale, as the prepare trigger stores a direct insert's (1.5 -> 1.50).
        round(abs(c.amount), c.minor_unit),
        c.txn_type,
        c.description,
        c.merchant,
        c.currency,
        c.category,
        c.external_id,
        c.rule,
        c.value,
        CASE WHEN c.rule IS NOT NULL THEN format('row %s: %s: %s (%s)', c.row_no, c.rule, CASE c.rule
            WHEN 'import_row_format' THEN CASE
                WHEN c.element_type <> 'object' THEN 'a row must be a JSON object'
                WHEN c.unreadable IS NOT NULL THEN 'the file''s reader could not read the row'
                WHEN c.unknown_key THEN 'unknown field'
                WHEN c.nested THEN 'a field holds an object or an array'
                ELSE 'line must be a positive whole number'
            END
            WHEN 'transactions_user_id_account_id_fkey' THEN 'account_id is not an account of the acting user'
            WHEN 'import_row_account_check' THEN format('account_id differs from the batch''s account %s', p_account_id)
            WHEN 'import_txn_date_format' THEN 'txn_date must be a calendar date written YYYY-MM-DD'
            WHEN 'import_txn_date_window' THEN format(
                'txn_date must be from 1970-01-01 to 31 days after today (%s)', current_date + 31
            )
            WHEN 'import_posted_date_format' THEN 'posted_date must be a calendar date written YYYY-MM-DD'
            WHEN 'transactions_amount_finite_check' THEN 'amount must be a finite number'
            WHEN 'import_amount_format' THEN
                'amount must be a decimal number (at most 15 digits before the point, a dot for decimals)'
            WHEN 'import_txn_type_format' THEN 'txn_type must be debit or credit'
            WHEN 'transactions_amount_check' THEN 'amount must not be zero, and must be positive when txn_type is given'
            WHEN 'transactions_currency_fkey' THEN 'currency is not a known ISO 4217 code'
            WHEN 'transactions_amount_scale_check' THEN format(
                'amount has more than the %s decimal(s) its currency allows', c.minor_unit
            )
            WHEN 'transactions_category_fkey' THEN 'category is not a known category'
            WHEN 'transactions_description_check' THEN 'description must have 1 to 255 characters'
            WHEN 'transactions_description_visible_check' THEN 'description must hold a visible character'
            WHEN 'transactions_merchant_check' THEN 'merchant must have at most 100 characters'
            WHEN 'transactions_external_id_check' THEN 'external_id must have 1 to 200 characters'
        END, coalesce(c.value, 'missing')) END
    FROM (
        -- The first rule the row breaks, and the value that breaks it, for a row that is not valid.
        SELECT
            n.*,
            CASE WHEN n.valid IS NOT TRUE THEN CASE
                WHEN n.element_type <> 'object' THEN 'import_row_format'
                WHEN n.unreadable IS NOT NULL THEN 'import_row_format'
                WHEN n.unknown_key THEN 'import_row_format'
                WHEN n.nested THEN 'import_row_format'
                WHEN n.line IS NOT NULL AND n.line !~ '^[0-9]{1,18}$' THEN 'import_row_format'
                WHEN n.account_id IS DISTINCT FROM p_account_id::text AND n.account_id IS NOT NULL
                    AND NOT EXISTS (
                        SELECT FROM bank.accounts AS a WHERE a.user_id = p_user_id AND a.id::text = n.account_id
                    ) THEN 'transactions_user_id_account_id_fkey'
                WHEN n.account_id IS DISTINCT FROM p_account_id::text AND n.account_id IS NOT NULL
                    THEN 'import_row_account_check'
                WHEN n.txn_date IS NULL THEN 'import_txn_date_format'
                WHEN n.txn_date < '1970-01-01' OR n.txn_date > current_date + 31 THEN 'import_txn_date_window'
                WHEN n.posted_date_text IS NOT NULL AND n.posted_date IS NULL THEN 'import_posted_date_format'
                WHEN lower(n.amount_text) IN ('nan', '+nan', '-nan', 'infinity', '+infinity', '-infinity', 'inf',
                    '+inf', '-inf') THEN 'transactions_amount_finite_check'
                WHEN n.amount IS NULL THEN 'import_amount_format'
                WHEN n.txn_type IS NULL THEN 'import_txn_type_format'
                WHEN n.amount = 0 OR (n.txn_type_text IS NOT NULL AND n.amount < 0) THEN 'transactions_amount_check'
                WHEN n.minor_unit IS NULL THEN 'transactions_currency_fkey'
                WHEN round(n.amount, n.minor_unit) <> n.amount THEN 'transactions_amount_scale_check'
                WHEN NOT n.category_known THEN 'transactions_category_fkey'
                WHEN n.description IS NULL OR char_length(btrim(n.description)) NOT BETWEEN 1 AND 255
                    THEN 'transactions_description_check'
                WHEN n.description !~ (
                    '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
                ) THEN 'transactions_description_visible_check'
                WHEN char_length(n.merchant) > 100 THEN 'transactions_merchant_check'
                WHEN char_length(n.external_id) NOT BETWEEN 1 AND 200 THEN 'transactions_external_id_check'
            END END AS rule,
            CASE WHEN n.valid IS NOT TRUE THEN CASE
                WHEN n.element_type <> 'object' THEN n.element::text
                WHEN n.unreadable IS NOT NULL THEN n.unreadable
                WHEN n.unknown_key THEN (
                    SELECT min(k.key) FROM jsonb_object_keys(n.element) AS k (key)
                    WHERE k.key NOT IN (
                        'line', 'account_id', 'txn_date', 'posted_date', 'amount', 'txn_type', 'description',
                        'merchant', 'currency', 'category', 'external_id', 'unreadable'
                    )
                )
                WHEN n.nested THEN n.element::text
                WHEN n.line IS NOT NULL AND n.line !~ '^[0-9]{1,18}$' THEN n.line
                WHEN n.account_id IS DISTINCT FROM p_account_id::text AND n.account_id IS NOT NULL THEN n.account_id
                WHEN n.txn_date IS NULL OR n.txn_date < '1970-01-01' OR n.txn_date > current_date + 31
                    THEN n.txn_date_text
                WHEN n.posted_date_text IS NOT NULL AND n.posted_date IS NULL THEN n.posted_date_text
                WHEN n.amount IS NULL OR lower(n.amount_text) IN ('nan', '+nan', '-nan', 'infinity', '+infinity',
                    '-infinity', 'inf', '+inf', '-inf') THEN n.amount_text
                WHEN n.txn_type IS NULL THEN n.txn_type_text
                WHEN n.amount = 0 OR (n.txn_type_text IS NOT NULL AND n.amount < 0) THEN n.amount_text
                WHEN n.minor_unit IS NULL THEN n.currency
                WHEN round(n.amount, n.minor_unit) <> n.amount THEN n.amount_text || ' ' || n.currency
                WHEN NOT n.category_known THEN n.category
                WHEN char_length(n.merchant) > 100 THEN n.merchant
                WHEN char_length(n.external_id) NOT BETWEEN 1 AND 200 THEN n.external_id
                ELSE n.description
            END END AS value
        FROM (
            -- Only a row that fails the test is searched for a field holding an object or an array.
            SELECT
                v.*,
                CASE WHEN v.valid IS NOT TRUE AND v.element_type = 'object' THEN
                    jsonb_path_exists(v.element, '$.* ? (@.type() == "object" || @.type() == "array")')
                END AS nested
            FROM (
                -- The test a valid row passes: every rule below, in one conjunction of cheap tests.
                -- A field holding an object or an array fails it too: ->> gives its JSON text, and
                -- the fields that would pass as text (description, merchant, external_id) must not
                -- start with { or [; the others then break their own format.
                SELECT
                    d.*,
                    d.element_type = 'object'
                    AND d.unreadable IS NULL
                    AND NOT d.unknown_key
                    AND (d.line IS NULL OR d.line ~ '^[0-9]{1,18}$')
                    AND (d.account_id IS NULL OR d.account_id = p_account_id::text)
                    AND d.txn_date BETWEEN '1970-01-01' AND current_date + 31
                    AND (d.posted_date_text IS NULL OR d.posted_date IS NOT NULL)
                    AND d.amount <> 0
                    AND d.txn_type IS NOT NULL
                    AND (d.txn_type_text IS NULL OR d.amount > 0)
                    AND round(d.amount, d.minor_unit) = d.amount
                    AND d.category_known
                    AND char_length(btrim(d.description)) BETWEEN 1 AND 255
                    AND ascii(d.description) NOT IN (91, 123)
                    AND (
                        ascii(d.description) BETWEEN 33 AND 126
                        OR d.description ~ (
                            '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
                        )
                    )
                    AND (d.merchant IS NULL OR char_length(d.merchant) <= 100 AND ascii(d.merchant) NOT IN (91, 123))
                    AND (
                        d.external_id IS NULL
                        OR char_length(d.external_id) BETWEEN 1 AND 200 AND ascii(d.external_id) NOT IN (91, 123)
                    ) AS valid
                FROM (
                    SELECT
                        t.*,
                        -- The same text as txn_date (most files) is not parsed again.
                        CASE
                            WHEN t.posted_date_text = t.txn_date_text THEN t.txn_date
                            ELSE CASE
                                    WHEN t.posted_date_text ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                                        AND left(t.posted_date_text, 4) <> '0000'
                                        AND substr(t.posted_date_text, 9, 2)::integer
                                        <= CASE substr(t.posted_date_text, 6, 2)
                                            WHEN '02' THEN CASE
                                                WHEN left(t.posted_date_text, 4)::integer % 4 = 0
                                                    AND (
                                                        left(t.posted_date_text, 4)::integer % 100 <> 0
                                                        OR left(t.posted_date_text, 4)::integer % 400 = 0
                                                    )
                                                    THEN 29
                                                ELSE 28
                                            END
                                            WHEN '04' THEN 30 WHEN '06' THEN 30 WHEN '09' THEN 30 WHEN '11' THEN 30
                                            ELSE 31
                                        END
                                        THEN t.posted_date_text::date
                                END
                        END AS posted_date
                    FROM (
                        -- Typed values: NULL where the text is not one.
                        SELECT
                            f.*,
                            CASE WHEN f.line ~ '^[0-9]{1,18}$' THEN f.line::bigint ELSE f.ordinal END AS row_no,
                            -- A calendar date written YYYY-MM-DD (year 0001 on): 2025-02-30 is none.
                            CASE
                                WHEN f.txn_date_text ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                                    AND left(f.txn_date_text, 4) <> '0000'
                                    AND substr(f.txn_date_text, 9, 2)::integer <= CASE substr(f.txn_date_text, 6, 2)
                                        WHEN '02' THEN CASE
                                            WHEN left(f.txn_date_text, 4)::integer % 4 = 0
                                                AND (
                                                    left(f.txn_date_text, 4)::integer % 100 <> 0
                                                    OR left(f.txn_date_text, 4)::integer % 400 = 0
                                                )
                                                THEN 29
                                            ELSE 28
                                        END
                                        WHEN '04' THEN 30 WHEN '06' THEN 30 WHEN '09' THEN 30 WHEN '11' THEN 30 ELSE 31
                                    END
                                    THEN f.txn_date_text::date
                            END AS txn_date,
                            CASE
                                WHEN f.amount_text ~ '^[+-]?([0-9]{1,15}(\.[0-9]*)?|\.[0-9]+)$'
                                    THEN f.amount_text::numeric
                            END AS amount,
                            -- Constants, not a cast per row (an enum's input function is a catalog lookup).
                            CASE
                                WHEN f.txn_type_text = 'debit' THEN 'debit'::bank.txn_type
                                WHEN f.txn_type_text = 'credit' THEN 'credit'::bank.txn_type
                                WHEN f.txn_type_text IS NULL AND left(f.amount_text, 1) = '-'
                                    THEN 'debit'::bank.txn_type
                                WHEN f.txn_type_text IS NULL THEN 'credit'::bank.txn_type
                            END AS txn_type,
                            -- Read once for the whole batch (InitPlans), looked up per row.
                            (
                                (SELECT jsonb_object_agg(cur.code, cur.minor_unit) FROM bank.currencies AS cur)
                                ->> f.currency
                            )::smallint AS minor_unit,
                            f.category IS NULL
                            OR (SELECT jsonb_object_agg(cat.name, TRUE) FROM bank.category_master AS cat) ? f.category
                            AS category_known
                        FROM (
                            -- The fields as text (NULL in a row that is no object).
                            SELECT
                                e.ordinal,
                                e.element,
                                jsonb_typeof(e.element) AS element_type,
                                e.element ->> 'line' AS line,
                                e.element ->> 'account_id' AS account_id,
                                e.element ->> 'txn_date' AS txn_date_text,
                                e.element ->> 'posted_date' AS posted_date_text,
                                btrim(e.element ->> 'amount') AS amount_text,
                                lower(btrim(e.element ->> 'txn_type')) AS txn_type_text,
                                e.element ->> 'description' AS description,
                                e.element ->> 'merchant' AS merchant,
                                coalesce(e.element ->> 'currency', p_currency) AS currency,
                                e.element ->> 'category' AS category,
                                e.element ->> 'external_id' AS external_id,
                                e.element ->> 'unreadable' AS unreadable,
                                CASE WHEN jsonb_typeof(e.element) = 'object' THEN
                                    e.element - '{line,account_id,txn_date,posted_date,amount,txn_type,description,'
                                    'merchant,currency,category,external_id,unreadable}'::text[] <> '{}'::jsonb
                                END AS unknown_key
                            FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e (element, ordinal)
                            -- OFFSET 0 keeps each level from being pulled up into the next, which
                            -- would evaluate its expressions once per mention (measured: 13x slower).
                            OFFSET 0
                        ) AS f
                        OFFSET 0
                    ) AS t
                    OFFSET 0
                ) AS d
                OFFSET 0
            ) AS v
            OFFSET 0
        ) AS n
        OFFSET 0
    ) AS c
$$;
COMMENT ON FUNCTION bank.import_check(jsonb, bigint, bigint, text) IS
'The rows of an import batch parsed and checked: typed values, or the first rule a row breaks with its value '
'and a message (import_* rules, or the constraint a direct insert would break). For api.import_transactions.';
