-- Market data, owned by the ingestion service. Prices and volumes are NUMERIC (exact decimals).

CREATE SCHEMA IF NOT EXISTS market;

-- One closed OHLCV bar. ts is the bar's OPEN time (UTC); timeframe is the exchange-style code
-- ('1m', '1h', '1d', ...). (symbol, timeframe, ts) is the idempotency key of an upsert.
SELECT kestrel.create_timeseries_table('market.bars', 'ts', interval '1 month', $defs$
    symbol      text        NOT NULL,
    timeframe   text        NOT NULL,
    ts          timestamptz NOT NULL,
    open        numeric     NOT NULL,
    high        numeric     NOT NULL,
    low         numeric     NOT NULL,
    close       numeric     NOT NULL,
    volume      numeric     NOT NULL,
    event_id    uuid        NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bars_pkey PRIMARY KEY (symbol, timeframe, ts),
    CONSTRAINT bars_ohlc_consistent CHECK (
        low <= open AND low <= close AND high >= open AND high >= close AND low > 0),
    CONSTRAINT bars_volume_non_negative CHECK (volume >= 0)
$defs$);

-- Trace a bar back from the events derived from it (features carry the source bar's event id).
CREATE INDEX bars_event_id_idx ON market.bars (event_id);

-- Individual trades. trade_id is the venue's id, unique per symbol; ts is part of every key because
-- partitioned tables and hypertables require the partition column in unique constraints.
SELECT kestrel.create_timeseries_table('market.ticks', 'ts', interval '1 day', $defs$
    symbol      text        NOT NULL,
    trade_id    text        NOT NULL,
    ts          timestamptz NOT NULL,
    price       numeric     NOT NULL CHECK (price > 0),
    quantity    numeric     NOT NULL CHECK (quantity > 0),
    side        text        CHECK (side IN ('BUY', 'SELL')),
    event_id    uuid        NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticks_pkey PRIMARY KEY (symbol, trade_id, ts)
$defs$);

CREATE INDEX ticks_symbol_ts_idx ON market.ticks (symbol, ts);
