-- How far each ingestion source has PUBLISHED, per symbol and timeframe. Bars are stored first and
-- published second, so "last stored" may run ahead of "last published" after a crash; a resumed
-- backfill starts after the published point (re-storing is an idempotent upsert, re-publishing
-- carries the same event ids, which consumers deduplicate).
CREATE TABLE market.ingest_checkpoints (
    source            text        NOT NULL,
    symbol            text        NOT NULL,
    timeframe         text        NOT NULL,
    last_published_ts timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingest_checkpoints_pkey PRIMARY KEY (source, symbol, timeframe)
);
