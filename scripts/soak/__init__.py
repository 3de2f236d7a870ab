"""The soak test's parts (scripts/soak.py runs them): world (the users it starts from, setup.sql),
client (the workload and its ledger), cluster (PostgreSQL and PgBouncer), faults, check, report."""
