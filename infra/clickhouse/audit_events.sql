-- Palisade audit telemetry in ClickHouse (isolated from Postgres and NATS: own server, own users).
-- Written by the audit service's exporter as the insert-only user; dashboards read it as a readonly
-- user. Works on ClickHouse 18.16 and later (DateTime, no TTL, no Map).
-- The exporter delivers at least once: ReplacingMergeTree collapses repeated deliveries of the same
-- event (same org_id and event_id) on merge; exact counts use FINAL or uniqExact(event_id).
CREATE DATABASE IF NOT EXISTS palisade_audit;

CREATE TABLE IF NOT EXISTS palisade_audit.audit_events
(
    event_id    UUID,
    sequence    UInt64,
    event_time  DateTime,
    recorded_at DateTime,
    exported_at DateTime,
    producer    String,
    type        String,
    org_id      String,
    actor       String,
    subject     String,
    denied      UInt8
)
ENGINE = ReplacingMergeTree(exported_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (org_id, event_id);
