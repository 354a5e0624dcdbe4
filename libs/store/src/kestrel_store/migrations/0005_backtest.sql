-- Backtest runs, owned by the backtest service.

CREATE SCHEMA IF NOT EXISTS backtest;

-- job_event_id is the BacktestJob's event id: UNIQUE so a redelivered job never runs twice.
CREATE TABLE backtest.runs (
    run_id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    job_event_id        uuid        NOT NULL,
    status              text        NOT NULL DEFAULT 'QUEUED' CHECK (status IN (
        'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED')),
    strategy            text        NOT NULL,
    parameters          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    symbols             text[]      NOT NULL CHECK (cardinality(symbols) > 0),
    timeframe           text        NOT NULL,
    start_ts            timestamptz NOT NULL,
    end_ts              timestamptz NOT NULL,
    feature_set_version text,
    model_uri           text,
    metrics             jsonb,
    error               text,
    submitted_by        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    CONSTRAINT runs_job_event_id_key UNIQUE (job_event_id),
    CONSTRAINT runs_range_ordered CHECK (start_ts < end_ts),
    CONSTRAINT runs_failure_has_error CHECK (status <> 'FAILED' OR error IS NOT NULL)
);

CREATE INDEX runs_created_idx ON backtest.runs (created_at DESC);
