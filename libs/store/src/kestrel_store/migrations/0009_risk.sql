-- Accounts, model signals and risk decisions, owned by the risk service (the gateway reads them).

CREATE SCHEMA IF NOT EXISTS trading;

-- One row per account risk trades for; risk upserts its configured account on start.
CREATE TABLE trading.accounts (
    account      text        PRIMARY KEY,
    initial_cash numeric     NOT NULL CHECK (initial_cash >= 0),
    quote_asset  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every signal risk received (HOLD included), as inference published it. ts is the signal's
-- ts_event; event_id (derived from the scored vector and model) makes a redelivery a no-op.
SELECT kestrel.create_timeseries_table('trading.signals', 'ts', interval '1 month', $defs$
    event_id        uuid             NOT NULL,
    ts              timestamptz      NOT NULL,
    symbol          text             NOT NULL,
    venue           text             NOT NULL,
    timeframe       text             NOT NULL,
    strategy_id     text             NOT NULL,
    model_name      text             NOT NULL,
    model_version   text             NOT NULL,
    action          text             NOT NULL CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    confidence      double precision NOT NULL,
    probabilities   jsonb            NOT NULL DEFAULT '{}'::jsonb,
    reference_price numeric,
    volatility      double precision,
    recorded_at     timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT signals_pkey PRIMARY KEY (event_id, ts)
$defs$);

CREATE INDEX signals_symbol_ts_idx ON trading.signals (symbol, ts);

-- Risk's verdict on every BUY/SELL signal and manual order. event_id is derived from the
-- client_order_id, so re-deciding a signal hits the same key; ts is the decision's ts_event.
SELECT kestrel.create_timeseries_table('trading.risk_decisions', 'ts', interval '1 month', $defs$
    event_id        uuid        NOT NULL,
    ts              timestamptz NOT NULL,
    client_order_id text        NOT NULL,
    signal_event_id uuid,
    account         text        NOT NULL,
    strategy_id     text        NOT NULL,
    symbol          text        NOT NULL,
    venue           text        NOT NULL DEFAULT '',
    side            text        CHECK (side IN ('BUY', 'SELL')),
    outcome         text        NOT NULL CHECK (outcome IN ('APPROVED', 'REJECTED')),
    reason          text,
    reason_text     text        NOT NULL,
    quantity        numeric,
    reference_price numeric,
    notional        numeric,
    origin          text        NOT NULL CHECK (origin IN ('SIGNAL', 'MANUAL')),
    checks          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    order_event_id  uuid,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT risk_decisions_pkey PRIMARY KEY (event_id, ts),
    CONSTRAINT risk_decisions_rejection_has_reason CHECK ((outcome = 'REJECTED') = (reason IS NOT NULL))
$defs$);

CREATE INDEX risk_decisions_account_ts_idx ON trading.risk_decisions (account, ts DESC);
CREATE INDEX risk_decisions_client_order_id_idx ON trading.risk_decisions (client_order_id);
CREATE INDEX risk_decisions_outcome_ts_idx ON trading.risk_decisions (outcome, ts DESC);
