-- The rows of an import batch (a jsonb array of objects), parsed and checked one by one: each row
-- comes back typed, or with the first rule it breaks, the offending value and a message naming
-- both. Every rule a direct insert would enforce is checked here first, so one bad row is reported
-- with its number instead of failing the batch's single INSERT; PostgreSQL still checks every key
-- and constraint on that INSERT. The exchange rate, the category rules and de-duplication need the
-- whole batch: api.import_transactions does them. A row the caller's file reader could not make
-- sense of (a CSV line with too few fields, an OFX transaction its library refuses) comes with
-- "unreadable": the reason, and is rejected as import_row_format with it.
CREATE OR REPLACE FUNCTION bank.import_check(p_rows jsonb, p_user_id bigint, p_account_id bigint, p_currency text)
RETURNS SETOF bank.import_row
LANGUAGE sql
STABLE
AS $$
    SELECT
        p.row_no,
        p.txn_date,
        p.posted_date,
        -- Stored at its currency's scale, as the prepare trigger stores a direct insert's (1.5 -> 1.50).
        round(abs(p.amount), p.minor_unit),
        p.txn_type,
        f.description,
        f.merchant,
        f.currency,
        f.category,
        f.external_id,
        v.rule,
        v.value,
        v.message
    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e (element, ordinal)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN jsonb_typeof(e.element) = 'object' THEN e.element ELSE '{}' END AS o
    ) AS j
    CROSS JOIN LATERAL (
        SELECT
            j.o ->> 'line' AS line,
            j.o ->> 'account_id' AS account_id,
            j.o ->> 'txn_date' AS txn_date,
            j.o ->> 'posted_date' AS posted_date,
            btrim(j.o ->> 'amount') AS amount,
            lower(btrim(j.o ->> 'txn_type')) AS txn_type,
            j.o ->> 'description' AS description,
            j.o ->> 'merchant' AS merchant,
            coalesce(j.o ->> 'currency', p_currency) AS currency,
            j.o ->> 'category' AS category,
            j.o ->> 'external_id' AS external_id,
            j.o ->> 'unreadable' AS unreadable,
            (
                SELECT min(k.key) FROM jsonb_object_keys(j.o) AS k (key)
                WHERE k.key NOT IN (
                    'line', 'account_id', 'txn_date', 'posted_date', 'amount', 'txn_type', 'description',
                    'merchant', 'currency', 'category', 'external_id', 'unreadable'
                )
            ) AS unknown_key,
            jsonb_path_exists(j.o, '$.* ? (@.type() == "object" || @.type() == "array")') AS nested
        -- OFFSET 0 keeps each of these subqueries from being pulled up into the CASEs below, which
        -- would evaluate every lookup once per mention (measured: 13x slower).
        OFFSET 0
    ) AS f
    -- Joined, not looked up per row: a hash of two small tables.
    LEFT JOIN bank.currencies AS cur ON cur.code = f.currency
    LEFT JOIN bank.category_master AS cat ON cat.name = f.category
    CROSS JOIN LATERAL (
        SELECT
            CASE WHEN f.line ~ '^[0-9]{1,18}$' THEN f.line::bigint ELSE e.ordinal END AS row_no,
            bank.parse_iso_date(f.txn_date) AS txn_date,
            bank.parse_iso_date(f.posted_date) AS posted_date,
            CASE WHEN f.amount ~ '^[+-]?([0-9]{1,15}(\.[0-9]*)?|\.[0-9]+)$' THEN f.amount::numeric END AS amount,
            CASE
                WHEN f.txn_type IN ('debit', 'credit') THEN f.txn_type::bank.txn_type
                WHEN f.txn_type IS NULL AND f.amount ~ '^-' THEN 'debit'::bank.txn_type
                WHEN f.txn_type IS NULL THEN 'credit'::bank.txn_type
            END AS txn_type,
            cur.minor_unit
        OFFSET 0
    ) AS p
    CROSS JOIN LATERAL (
        SELECT
            r.rule,
            r.value,
            CASE
                WHEN r.rule IS NOT NULL
                    THEN format('row %s: %s: %s (%s)', p.row_no, r.rule, r.problem, coalesce(r.value, 'missing'))
            END AS message
        FROM (
            SELECT
                CASE
                    WHEN jsonb_typeof(e.element) <> 'object' THEN 'import_row_format'
                    WHEN f.unreadable IS NOT NULL THEN 'import_row_format'
                    WHEN f.unknown_key IS NOT NULL THEN 'import_row_format'
                    WHEN f.nested THEN 'import_row_format'
                    WHEN f.line IS NOT NULL AND f.line !~ '^[0-9]{1,18}$' THEN 'import_row_format'
                    WHEN f.account_id IS DISTINCT FROM p_account_id::text AND f.account_id IS NOT NULL
                        AND NOT EXISTS (
                            SELECT FROM bank.accounts AS a WHERE a.user_id = p_user_id AND a.id::text = f.account_id
                        ) THEN 'transactions_user_id_account_id_fkey'
                    WHEN f.account_id IS DISTINCT FROM p_account_id::text AND f.account_id IS NOT NULL
                        THEN 'import_row_account_check'
                    WHEN p.txn_date IS NULL THEN 'import_txn_date_format'
                    WHEN p.txn_date < '1970-01-01' OR p.txn_date > current_date + 31 THEN 'import_txn_date_window'
                    WHEN f.posted_date IS NOT NULL AND p.posted_date IS NULL THEN 'import_posted_date_format'
                    WHEN lower(f.amount) IN ('nan', '+nan', '-nan', 'infinity', '+infinity', '-infinity', 'inf',
                        '+inf', '-inf') THEN 'transactions_amount_finite_check'
                    WHEN p.amount IS NULL THEN 'import_amount_format'
                    WHEN p.txn_type IS NULL THEN 'import_txn_type_format'
                    WHEN p.amount = 0 OR (f.txn_type IS NOT NULL AND p.amount < 0) THEN 'transactions_amount_check'
                    WHEN p.minor_unit IS NULL THEN 'transactions_currency_fkey'
                    WHEN round(p.amount, p.minor_unit) <> p.amount THEN 'transactions_amount_scale_check'
                    WHEN f.category IS NOT NULL AND cat.name IS NULL
                        THEN 'transactions_category_fkey'
                    WHEN f.description IS NULL OR char_length(btrim(f.description)) NOT BETWEEN 1 AND 255
                        THEN 'transactions_description_check'
                    WHEN f.description !~ (
                        '[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
                    ) THEN 'transactions_description_visible_check'
                    WHEN char_length(f.merchant) > 100 THEN 'transactions_merchant_check'
                    WHEN char_length(f.external_id) NOT BETWEEN 1 AND 200 THEN 'transactions_external_id_check'
                END AS rule,
                CASE
                    WHEN jsonb_typeof(e.element) <> 'object' THEN e.element::text
                    WHEN f.unreadable IS NOT NULL THEN f.unreadable
                    WHEN f.unknown_key IS NOT NULL THEN f.unknown_key
                    WHEN f.nested THEN j.o::text
                    WHEN f.line IS NOT NULL AND f.line !~ '^[0-9]{1,18}$' THEN f.line
                    WHEN f.account_id IS DISTINCT FROM p_account_id::text AND f.account_id IS NOT NULL
                        THEN f.account_id
                    WHEN p.txn_date IS NULL OR p.txn_date < '1970-01-01' OR p.txn_date > current_date + 31
                        THEN f.txn_date
                    WHEN f.posted_date IS NOT NULL AND p.posted_date IS NULL THEN f.posted_date
                    WHEN p.amount IS NULL OR lower(f.amount) IN ('nan', '+nan', '-nan', 'infinity', '+infinity',
                        '-infinity', 'inf', '+inf', '-inf') THEN f.amount
                    WHEN p.txn_type IS NULL THEN f.txn_type
                    WHEN p.amount = 0 OR (f.txn_type IS NOT NULL AND p.amount < 0) THEN f.amount
                    WHEN p.minor_unit IS NULL THEN f.currency
                    WHEN round(p.amount, p.minor_unit) <> p.amount THEN f.amount || ' ' || f.currency
                    WHEN f.category IS NOT NULL AND cat.name IS NULL
                        THEN f.category
                    WHEN char_length(f.merchant) > 100 THEN f.merchant
                    WHEN char_length(f.external_id) NOT BETWEEN 1 AND 200 THEN f.external_id
                    ELSE f.description
                END AS value
            OFFSET 0
        ) AS c
        CROSS JOIN LATERAL (
            SELECT
                c.rule,
                c.value,
                CASE c.rule
                    WHEN 'import_row_format' THEN CASE
                        WHEN jsonb_typeof(e.element) <> 'object' THEN 'a row must be a JSON object'
                        WHEN f.unreadable IS NOT NULL THEN 'the file''s reader could not read the row'
                        WHEN f.unknown_key IS NOT NULL THEN 'unknown field'
                        WHEN f.nested THEN 'a field holds an object or an array'
                        ELSE 'line must be a positive whole number'
                    END
                    WHEN 'transactions_user_id_account_id_fkey' THEN 'account_id is not an account of the acting user'
                    WHEN 'import_row_account_check' THEN format('account_id differs from the batch''s account %s',
                        p_account_id)
                    WHEN 'import_txn_date_format' THEN 'txn_date must be a calendar date written YYYY-MM-DD'
                    WHEN 'import_txn_date_window' THEN format(
                        'txn_date must be from 1970-01-01 to 31 days after today (%s)', current_date + 31
                    )
                    WHEN 'import_posted_date_format' THEN 'posted_date must be a calendar date written YYYY-MM-DD'
                    WHEN 'transactions_amount_finite_check' THEN 'amount must be a finite number'
                    WHEN 'import_amount_format' THEN
                        'amount must be a decimal number (at most 15 digits before the point, a dot for decimals)'
                    WHEN 'import_txn_type_format' THEN 'txn_type must be debit or credit'
                    WHEN 'transactions_amount_check' THEN
                        'amount must not be zero, and must be positive when txn_type is given'
                    WHEN 'transactions_currency_fkey' THEN 'currency is not a known ISO 4217 code'
                    WHEN 'transactions_amount_scale_check' THEN format(
                        'amount has more than the %s decimal(s) its currency allows', p.minor_unit
                    )
                    WHEN 'transactions_category_fkey' THEN 'category is not a known category'
                    WHEN 'transactions_description_check' THEN 'description must have 1 to 255 characters'
                    WHEN 'transactions_description_visible_check' THEN
                        'description must hold a visible character'
                    WHEN 'transactions_merchant_check' THEN 'merchant must have at most 100 characters'
                    WHEN 'transactions_external_id_check' THEN 'external_id must have 1 to 200 characters'
                END AS problem
        ) AS r
    ) AS v
$$;
COMMENT ON FUNCTION bank.import_check(jsonb, bigint, bigint, text) IS
'The rows of an import batch parsed and checked: typed values, or the first rule a row breaks with its value '
'and a message (import_* rules, or the constraint a direct insert would break). For api.import_transactions.';
