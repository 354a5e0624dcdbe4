-- Offline feature store, owned by the features service.

CREATE SCHEMA IF NOT EXISTS features;

-- A feature-set version names an ordered list of features once, so each vector stores only values.
CREATE TABLE features.feature_sets (
    version    text        PRIMARY KEY,
    names      text[]      NOT NULL CHECK (cardinality(names) > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One feature vector per (symbol, timeframe, feature-set version, bar). values[i] is names[i] of the
-- feature set; features are statistics, not money, so float8 is right here. ts is the source bar's ts.
SELECT kestrel.create_timeseries_table('features.vectors', 'ts', interval '1 month', $defs$
    symbol              text        NOT NULL,
    timeframe           text        NOT NULL,
    ts                  timestamptz NOT NULL,
    feature_set_version text        NOT NULL REFERENCES features.feature_sets (version),
    "values"            float8[]    NOT NULL,
    source_event_id     uuid        NOT NULL,
    event_id            uuid        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vectors_pkey PRIMARY KEY (symbol, timeframe, feature_set_version, ts)
$defs$);

CREATE INDEX vectors_source_event_id_idx ON features.vectors (source_event_id);
