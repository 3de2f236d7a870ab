-- One batch of generated users, numbered generate.low to generate.high: 'user<number>' at the
-- generated domain. Every value is drawn from hashtextextended(what it describes, seed), so the
-- same seed gives the same users whatever the batches.
-- Parameters: the settings generate.seed, generate.email_domain, generate.low and generate.high.
WITH p AS MATERIALIZED (
    SELECT
        current_setting('generate.seed')::integer AS seed,
        current_setting('generate.email_domain') AS email_domain,
        current_setting('generate.low')::integer AS low,
        current_setting('generate.high')::integer AS high
)

INSERT INTO bank.users (name, email, password, base_currency, kyc_status)
SELECT
    'User ' || g.n,
    'user' || g.n || p.email_domain,
    '$2b$12$' || repeat('G', 53),
    (ARRAY['USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP', 'JPY'])[1 + abs(hashtextextended('base' || g.n, p.seed)) % 7],
    CASE
        WHEN abs(hashtextextended('kyc' || g.n, p.seed)) % 10 < 8 THEN 'verified' ELSE 'unverified'
    END::bank.kyc_status
FROM p
CROSS JOIN generate_series(p.low, p.high) AS g (n);
