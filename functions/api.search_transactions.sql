-- Finds the acting user's transactions by a word of their description or merchant ("amzn",
-- "netflix", or "netflx" with a typo). Ranked: first the transactions holding the query as a
-- substring (case-insensitive), newest first; then, when there are fewer than p_limit of those,
-- transactions holding a word similar to it (pg_trgm's word similarity, at least
-- pg_trgm.word_similarity_threshold: 0.6 unless a DBA sets it for the database), the most similar
-- first, taken from the newest months that hold enough of them.
--
-- One GIN index (transactions_user_id_description_merchant_idx, V012) holds user_id and the
-- trigrams, so both come from it without reading other users' rows (hence at least three
-- characters: one trigram). Ranking every match of a frequent word ("pos" is in 40% of some
-- users' rows) would read them all; instead the range is searched in slices from its newest month
-- back, each one query that the monthly partitions bound, each twice as long as the one before,
-- the first holding about 100,000 of the user's transactions, until p_limit are found. A frequent
-- word costs one slice, and a rare one an index probe per partition.
--
-- SECURITY DEFINER, so that bank_readonly may search too and no bank role needs schema ext: it
-- reads the acting user's rows only, named explicitly (bank.acting_user_id(), else BKUS1).
-- Custom plans: each slice is planned for its months and the query's own selectivity.
CREATE OR REPLACE FUNCTION api.search_transactions(
    p_query text, p_from date DEFAULT NULL, p_to date DEFAULT NULL, p_limit integer DEFAULT 50
)
RETURNS TABLE (
    rank bigint,
    match text,
    similarity real,
    id bigint,
    txn_date date,
    account_id bigint,
    bank_name text,
    masked_account text,
    description text,
    merchant text,
    category text,
    amount numeric,
    currency text,
    txn_type bank.txn_type,
    kind bank.txn_kind,
    base_amount numeric,
    posted_date date
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_user_id bigint := bank.acting_user_id();
    -- Runs of white space count as one space, as in bank.normalized_description.
    v_query text := regexp_replace(btrim(p_query, E' \t\n\r\f\v'), '\s+', ' ', 'g');
    v_pattern text;
    v_first date;
    v_last date;
    v_high date;
    v_low date;
    v_first_months integer;
    v_months integer;
    v_stage text;
    -- What was found, in rank order: the substring matches, then the similar ones. (An aggregate
    -- of no rows is NULL, and array || NULL leaves the array as it was.)
    v_dates date[] := '{}';
    v_ids bigint[] := '{}';
    v_matches text[] := '{}';
    -- Similar matches of the slices read so far, ranked once there are enough.
    v_similar_dates date[] := '{}';
    v_similar_ids bigint[] := '{}';
    v_similar_scores real[] := '{}';
BEGIN
    IF p_query IS NULL OR v_query = '' THEN
        RAISE EXCEPTION 'search_query_check: the query is empty (%)', coalesce(quote_literal(p_query), 'NULL')
            USING ERRCODE = 'BKSR1';
    END IF;
    IF char_length(v_query) < 3 THEN
        RAISE EXCEPTION 'search_query_check: the query needs at least 3 characters (%)', quote_literal(v_query)
            USING ERRCODE = 'BKSR1', HINT = 'A trigram index needs three characters to look anything up.';
    END IF;
    IF char_length(v_query) > 100 THEN
        RAISE EXCEPTION 'search_query_check: the query has % characters, more than 100', char_length(v_query)
            USING ERRCODE = 'BKSR1';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'search_limit_check: the limit must be from 1 to 500 (%)', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'BKSR1';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION 'search_date_range_check: the range starts after it ends (from %, to %)', p_from, p_to
            USING ERRCODE = 'BKSR1';
    END IF;
    -- The query taken literally: LIKE's wildcards and its escape character are escaped.
    v_pattern := '%' || replace(replace(replace(v_query, '\', '\\'), '%', '\%'), '_', '\_') || '%';

    -- The user's first and last dates within the range, from the primary key.
    SELECT min(t.txn_date), max(t.txn_date) INTO v_first, v_last
    FROM bank.transactions AS t
    WHERE
        t.user_id = v_user_id
        AND t.txn_date BETWEEN coalesce(p_from, '-infinity'::date) AND coalesce(p_to, 'infinity'::date);

    -- The first slice holds about 100,000 of the user's transactions (a month of the heavy user,
    -- the whole history of most), from their monthly totals.
    SELECT greatest(1, least(1200, 100000 * count(DISTINCT m.month) / greatest(sum(m.txn_count), 1)))
    INTO v_first_months
    FROM bank.monthly_totals AS m
    WHERE m.user_id = v_user_id;

    FOREACH v_stage IN ARRAY ARRAY['substring', 'similar'] LOOP
        v_high := v_last;
        v_months := v_first_months;
        WHILE v_high >= v_first AND cardinality(v_ids) + cardinality(v_similar_ids) < p_limit LOOP
            v_low := greatest(v_first, (date_trunc('month', v_high) - make_interval(months => v_months - 1))::date);
            IF v_stage = 'substring' THEN
                -- Every match of the slice first (MATERIALIZED), then the newest: as one query the
                -- planner may prefer walking the primary key backwards until p_limit matches, cheap
                -- when the word is as frequent for this user as for everyone, and a read of the whole
                -- slice when it is rarer (measured: 1 s for a word the heavy user never used).
                WITH matches AS MATERIALIZED (
                    SELECT t.txn_date, t.id
                    FROM bank.transactions AS t
                    WHERE
                        t.user_id = v_user_id
                        AND t.txn_date BETWEEN v_low AND v_high
                        AND (t.description || ' ' || coalesce(t.merchant, '')) ILIKE v_pattern
                )

                SELECT v_dates || array_agg(s.txn_date), v_ids || array_agg(s.id), v_matches || array_agg(v_stage)
                INTO v_dates, v_ids, v_matches
                FROM (
                    SELECT m.txn_date, m.id
                    FROM matches AS m
                    ORDER BY m.txn_date DESC, m.id DESC
                    LIMIT p_limit - cardinality(v_ids)
                ) AS s;
            ELSE
                SELECT
                    v_similar_dates || array_agg(s.txn_date),
                    v_similar_ids || array_agg(s.id),
                    v_similar_scores || array_agg(s.score)
                INTO v_similar_dates, v_similar_ids, v_similar_scores
                FROM (
                    SELECT
                        t.txn_date,
                        t.id,
                        ext.word_similarity(v_query, t.description || ' ' || coalesce(t.merchant, '')) AS score
                    FROM bank.transactions AS t
                    WHERE
                        t.user_id = v_user_id
                        AND t.txn_date BETWEEN v_low AND v_high
                        AND v_query OPERATOR(ext.<%) (t.description || ' ' || coalesce(t.merchant, ''))
                        AND NOT (t.description || ' ' || coalesce(t.merchant, '')) ILIKE v_pattern
                    ORDER BY score DESC, t.txn_date DESC, t.id DESC
                    LIMIT p_limit - cardinality(v_ids)
                ) AS s;
            END IF;
            v_high := v_low - 1;
            v_months := v_months * 2;
        END LOOP;
    END LOOP;

    -- The similar matches after the substring ones, the most similar first.
    SELECT v_dates || array_agg(s.txn_date), v_ids || array_agg(s.id), v_matches || array_agg('similar'::text)
    INTO v_dates, v_ids, v_matches
    FROM (
        SELECT k.txn_date, k.id
        FROM unnest(v_similar_dates, v_similar_ids, v_similar_scores) AS k (txn_date, id, score)
        ORDER BY k.score DESC, k.txn_date DESC, k.id DESC
        LIMIT p_limit - cardinality(v_ids)
    ) AS s;

    RETURN QUERY
    SELECT
        k.ordinality,
        k.match,
        ext.word_similarity(v_query, t.description || ' ' || coalesce(t.merchant, '')),
        t.id,
        t.txn_date,
        t.account_id,
        a.bank_name,
        a.masked_account,
        t.description,
        t.merchant,
        t.category,
        t.amount,
        t.currency,
        t.txn_type,
        t.kind,
        t.base_amount,
        t.posted_date
    FROM unnest(v_dates, v_ids, v_matches) WITH ORDINALITY AS k (txn_date, id, match, ordinality)
    INNER JOIN bank.transactions AS t ON k.txn_date = t.txn_date AND k.id = t.id
    INNER JOIN bank.accounts AS a ON t.user_id = a.user_id AND t.account_id = a.id
    -- The rows found by their keys, as constants of the custom plan: the partitions of their dates
    -- only, and the primary key probed for each. Joined to the unnest alone, the planner expected
    -- one row per partition of the user and read all of the heavy user's 50,000 (270-430 ms).
    WHERE t.user_id = v_user_id AND t.txn_date = ANY(v_dates) AND t.id = ANY(v_ids)
    ORDER BY k.ordinality;
END;
$$;
COMMENT ON FUNCTION api.search_transactions(text, date, date, integer) IS
'The acting user''s transactions whose description or merchant holds p_query (3 to 100 characters, '
'case-insensitive) as a substring, newest first, then those with a similar word (match = ''similar''), most '
'similar first; from p_from to p_to (both included; NULL: open), at most p_limit (1 to 500); rank 1 is the best. '
'Bad arguments: BKSR1.';
