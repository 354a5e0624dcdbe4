-- The audit trail: every service's AuditEvent from Kafka audit.logs, kept as written.

CREATE SCHEMA IF NOT EXISTS audit;

-- ts is the event's ts_event. event_id is the idempotency key; ts joins it in the primary key because
-- the table is partitioned on ts (the same event always carries the same ts_event).
SELECT kestrel.create_timeseries_table('audit.events', 'ts', interval '1 month', $defs$
    event_id    uuid        NOT NULL,
    ts          timestamptz NOT NULL,
    service     text        NOT NULL,
    action      text        NOT NULL,
    severity    text        NOT NULL DEFAULT 'INFO' CHECK (severity IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    actor       text,
    subject     text,
    reason_code text,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    trace_id    text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (event_id, ts)
$defs$);

CREATE INDEX events_service_action_ts_idx ON audit.events (service, action, ts);
CREATE INDEX events_subject_ts_idx ON audit.events (subject, ts) WHERE subject IS NOT NULL;
