-- The days the generated data covers: the last generate.months months, this one included, up to
-- today. Recorded as the settings generate.first_day and generate.last_day for the statements that
-- follow, and partitioned before anything is loaded.
-- Parameters (bankdb/generate.py sets them for its session): the setting generate.months.
SELECT
    set_config(
        'generate.first_day',
        (
            date_trunc('month', current_date)
            - make_interval(months => current_setting('generate.months')::integer - 1)
        )::date::text,
        FALSE
    ),
    set_config('generate.last_day', current_date::text, FALSE);

SELECT bank.create_transaction_partitions(
    current_setting('generate.first_day')::date,
    current_setting('generate.last_day')::date
);
