-- Finds recurring payments in the history and proposes them (bank.recurring_candidates), set-based
-- for every user at once or for one. A series is a user's debits (regular ones: not transfers nor
-- card or loan payments) to one merchant in one currency, dated in the three years up to p_today;
-- the merchant is bank.normalized_description of merchant, or of the description when the merchant
-- is empty. It is proposed when:
--   * similar amounts: the payments within 15% of the median of the series' latest five payments
--     (so a price change follows the latest price) are its members, and they are at least half of
--     the series' payments (a shop paid often in varying amounts is no subscription, even when a
--     few of its amounts happen to be alike);
--   * a regular interval: the median of the days between consecutive members lies in a band, and at
--     least three quarters of those gaps do too: weekly 5-9 days (at least 4 payments), monthly
--     24-38 days (at least 3), yearly 350-380 days (at least 3);
--   * still running: the latest member is at most two periods before p_today.
-- It proposes the median of the members' amounts (the lower one of an even count: an amount the
-- bank charged), the latest member's date and the next one expected (a period later).
--
-- One row per user, merchant, recurrence and currency (recurring_candidates_merchant_key_recurrence_currency_key,
-- which the upsert relies on): a proposal found again is brought up to date; an accepted or
-- dismissed one is left as it is, so it never comes back; a proposal no longer found for a user
-- the run looked at is removed.
-- Users: p_user_id; else those with a debit dated from p_active_since to p_today; else all.
-- SECURITY DEFINER: it writes every user's proposals (run by bank.run_maintenance, and for the
-- acting user by api.find_recurring_candidates).
CREATE OR REPLACE FUNCTION bank.find_recurring_candidates(
    p_user_id bigint DEFAULT NULL, p_today date DEFAULT current_date, p_active_since date DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_users bigint[];
    v_found bigint[];
BEGIN
    IF p_today IS NULL THEN
        RAISE EXCEPTION 'bank.find_recurring_candidates: p_today must be a date, not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_user_id IS NOT NULL THEN
        v_users := ARRAY[p_user_id];
    ELSIF p_active_since IS NOT NULL THEN
        SELECT array_agg(DISTINCT t.user_id) INTO v_users
        FROM bank.transactions AS t
        WHERE t.txn_date >= p_active_since AND t.txn_date <= p_today AND t.txn_type = 'debit';
    ELSE
        SELECT array_agg(u.id) INTO v_users FROM bank.users AS u;
    END IF;
    IF v_users IS NULL THEN
        RETURN 0;
    END IF;

    WITH payments AS (
        SELECT
            t.user_id,
            t.id,
            t.txn_date,
            t.amount,
            t.currency,
            m.merchant,
            bank.normalized_description(m.merchant) AS merchant_key
        FROM bank.transactions AS t
        CROSS JOIN LATERAL (SELECT coalesce(nullif(btrim(t.merchant), ''), t.description) AS merchant) AS m
        WHERE
            t.user_id = ANY(v_users) AND t.txn_type = 'debit' AND t.kind = 'regular'
            AND t.txn_date > (p_today - interval '3 years')::date AND t.txn_date <= p_today
    ),

    latest AS (
        SELECT
            p.*,
            row_number() OVER (
                PARTITION BY p.user_id, p.merchant_key, p.currency ORDER BY p.txn_date DESC, p.id DESC
            ) AS recency,
            count(*) OVER (PARTITION BY p.user_id, p.merchant_key, p.currency) AS payments
        FROM payments AS p
    ),

    anchors AS (
        SELECT
            l.user_id,
            l.merchant_key,
            l.currency,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY l.amount) AS amount
        FROM latest AS l
        WHERE l.recency <= 5
        GROUP BY l.user_id, l.merchant_key, l.currency
        HAVING count(*) >= 2
    ),

    members AS (
        SELECT
            l.user_id,
            l.merchant_key,
            l.currency,
            l.merchant,
            l.amount,
            l.txn_date,
            l.recency,
            l.payments,
            l.txn_date - lag(l.txn_date) OVER (
                PARTITION BY l.user_id, l.merchant_key, l.currency ORDER BY l.txn_date, l.id
            ) AS gap
        FROM latest AS l
        INNER JOIN anchors AS a ON (a.user_id, a.merchant_key, a.currency) = (l.user_id, l.merchant_key, l.currency)
        WHERE abs(l.amount - a.amount) * 100 <= 15 * a.amount
    ),

    series AS (
        SELECT
            m.user_id,
            m.merchant_key,
            m.currency,
            count(*) AS occurrences,
            max(m.payments) AS payments,
            min(m.txn_date) AS first_date,
            max(m.txn_date) AS last_date,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY m.amount) AS typical_amount,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY m.gap) AS median_gap,
            (array_agg(m.merchant ORDER BY m.recency))[1] AS merchant,
            array_agg(m.gap) FILTER (WHERE m.gap IS NOT NULL) AS gaps
        FROM members AS m
        GROUP BY m.user_id, m.merchant_key, m.currency
    ),

    found AS (
        SELECT
            s.user_id,
            s.merchant_key,
            b.recurrence,
            s.currency,
            left(btrim(s.merchant), 100) AS merchant,
            s.typical_amount,
            s.occurrences,
            s.first_date,
            s.last_date,
            (s.last_date + b.period)::date AS next_expected_date
        FROM series AS s
        INNER JOIN (
            VALUES
            ('weekly'::bank.bill_recurrence, 5, 9, 4, interval '1 week'),
            ('monthly'::bank.bill_recurrence, 24, 38, 3, interval '1 month'),
            ('yearly'::bank.bill_recurrence, 350, 380, 3, interval '1 year')
        ) AS b (recurrence, min_gap, max_gap, min_occurrences, period)
            ON s.median_gap >= b.min_gap AND s.median_gap <= b.max_gap AND s.occurrences >= b.min_occurrences
        WHERE
            4 * (SELECT count(*) FROM unnest(s.gaps) AS g (days) WHERE g.days BETWEEN b.min_gap AND b.max_gap)
            >= 3 * (s.occurrences - 1)
            AND 2 * s.occurrences >= s.payments
            AND s.last_date + 2 * b.period >= p_today
    ),

    upserted AS (
        INSERT INTO bank.recurring_candidates AS c (
            user_id, merchant_key, recurrence, currency, merchant, typical_amount, occurrences,
            first_date, last_date, next_expected_date
        )
        SELECT
            f.user_id,
            f.merchant_key,
            f.recurrence,
            f.currency,
            f.merchant,
            f.typical_amount,
            f.occurrences,
            f.first_date,
            f.last_date,
            f.next_expected_date
        FROM found AS f
        ORDER BY f.user_id, f.merchant_key, f.recurrence, f.currency
        ON CONFLICT ON CONSTRAINT recurring_candidates_merchant_key_recurrence_currency_key DO UPDATE SET
            merchant = excluded.merchant,
            typical_amount = excluded.typical_amount,
            occurrences = excluded.occurrences,
            first_date = excluded.first_date,
            last_date = excluded.last_date,
            next_expected_date = excluded.next_expected_date,
            detected_at = excluded.detected_at  -- the default, now(): Citus refuses a non-immutable function here
        WHERE c.status = 'proposed'
        RETURNING c.id
    )

    SELECT coalesce(array_agg(u.id), '{}') INTO v_found FROM upserted AS u;

    DELETE FROM bank.recurring_candidates AS c
    WHERE c.user_id = ANY(v_users) AND c.status = 'proposed' AND c.id <> ALL(v_found);
    RETURN cardinality(v_found);
END;
$$;
COMMENT ON FUNCTION bank.find_recurring_candidates(bigint, date, date) IS
'Proposes the recurring payments (weekly, monthly, yearly; amounts within 15%) of p_user_id, or of the users with a '
'debit from p_active_since to p_today, or of all users; accepted and dismissed ones stay as they are. Returns how '
'many proposals it found.';
