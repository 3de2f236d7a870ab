-- On a primary: each standby it streams to. On a standby: how far its replay is behind.
CREATE OR REPLACE VIEW monitor.replication_lag AS
SELECT
    'primary' AS server_role,
    r.application_name,
    r.client_addr::text AS client_addr,
    r.state,
    pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint AS lag_bytes,
    r.replay_lag AS lag_time
FROM pg_catalog.pg_stat_replication AS r
WHERE NOT pg_is_in_recovery()
UNION ALL
SELECT
    'standby',
    NULL,
    NULL,
    'replaying',
    pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
    now() - pg_last_xact_replay_timestamp()
WHERE pg_is_in_recovery();
COMMENT ON VIEW monitor.replication_lag IS
'Replication lag in bytes and time: per standby on a primary, of this server on a standby.';
