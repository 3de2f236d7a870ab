-- The one place the generator's exchange rates are written: each currency's mid rate in USD.
-- The daily rates of bank.exchange_rates move around it (3%, slowly); purchases and salaries are
-- drawn in USD and converted with it. Kept in the session setting generate.usd_rates, not a
-- temporary table: the DBA login that generates may not create temporary tables (V005).
-- Parameters: the settings generate.first_day and generate.last_day (window.sql).
SELECT set_config('generate.usd_rates', '{"USD": 1, "EUR": 1.09, "GBP": 1.27, "JPY": 0.0067}', FALSE);

WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.first_day')::date AS first_day,
        current_setting('generate.last_day')::date AS last_day
)

INSERT INTO bank.exchange_rates (base_currency, quote_currency, rate_date, rate)
SELECT
    mid.key,
    'USD',
    d::date,
    round(mid.value::numeric * (1 + 0.03 * sin(extract(EPOCH FROM d) / 5e6))::numeric, 6)
FROM p
CROSS JOIN jsonb_each_text(current_setting('generate.usd_rates')::jsonb) AS mid
CROSS JOIN generate_series(p.first_day, p.last_day, interval '1 day') AS d
WHERE mid.key <> 'USD'
ON CONFLICT DO NOTHING;
