-- V011: a currency is looked up by its primary key. Every transaction written checks its currency
-- by a foreign key (one lookup in bank.currencies per row), and the prepare trigger reads the minor
-- units. The table holds 165 rows on 3 pages, small enough that the planner answered each lookup
-- with a sequential scan of every row rather than currencies_pkey (cost 5.1 against 8.3 at the
-- default random_page_cost), which measured 3 µs of each foreign key check: 0.6 s of CPU in an
-- import of 200,000 rows, 8% of a single-row insert. Stored at fillfactor 10 the rows span about
-- 13 pages and the lookups use the key. Every row is written again so that it moves: the full pages
-- have no room for the new versions, which go to pages filled to the new fillfactor (an UPDATE, not
-- CLUSTER: Citus does not send CLUSTER to a reference table's shards). Autovacuum clears the old
-- versions; the lookups' later upserts update the rows where they now are.
ALTER TABLE bank.currencies SET (fillfactor = 10);
UPDATE bank.currencies SET name = name;
ANALYZE bank.currencies;
