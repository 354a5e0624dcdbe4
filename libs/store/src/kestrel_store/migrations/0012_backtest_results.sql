-- What a finished backtest keeps: the run's engine and money, its fills, round trips, rejected
-- decisions, equity curve and rendered reports. Owned by the backtest service; the gateway records a
-- submission (status QUEUED) so its state is readable at once, and reads the rest.
-- A run's children are written in the one transaction that marks it SUCCEEDED, so a worker killed
-- mid-run leaves none behind; the redelivered job runs again from scratch.

ALTER TABLE backtest.runs
    ADD COLUMN mode             text    NOT NULL DEFAULT 'fast' CHECK (mode IN ('fast', 'exact')),
    ADD COLUMN strategy_id      text,
    ADD COLUMN venue            text,
    ADD COLUMN spec             jsonb   NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN money            jsonb,
    ADD COLUMN progress         double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    ADD COLUMN bars_processed   bigint  NOT NULL DEFAULT 0,
    ADD COLUMN error_type       text,
    ADD COLUMN worker           text,
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0,
    -- The BacktestResult as published (bytes), so a redelivered finished job republishes the same one.
    ADD COLUMN result           bytea;

CREATE INDEX runs_strategy_idx ON backtest.runs (strategy, created_at DESC);

CREATE TABLE backtest.fills (
    run_id          uuid        NOT NULL REFERENCES backtest.runs (run_id) ON DELETE CASCADE,
    seq             integer     NOT NULL,
    ts              timestamptz NOT NULL,
    symbol          text        NOT NULL,
    side            text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity        numeric     NOT NULL CHECK (quantity > 0),
    price           numeric     NOT NULL CHECK (price > 0),
    fee             numeric     NOT NULL CHECK (fee >= 0),
    client_order_id text        NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE backtest.trades (
    run_id      uuid             NOT NULL REFERENCES backtest.runs (run_id) ON DELETE CASCADE,
    seq         integer          NOT NULL,
    symbol      text             NOT NULL,
    direction   text             NOT NULL CHECK (direction IN ('long', 'short')),
    status      text             NOT NULL CHECK (status IN ('open', 'closed')),
    entry_ts    timestamptz      NOT NULL,
    exit_ts     timestamptz,
    size        double precision NOT NULL,
    entry_price double precision NOT NULL,
    exit_price  double precision,
    fees        double precision NOT NULL,
    pnl         double precision NOT NULL,
    return      double precision NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE backtest.rejections (
    run_id  uuid        NOT NULL REFERENCES backtest.runs (run_id) ON DELETE CASCADE,
    seq     integer     NOT NULL,
    ts      timestamptz NOT NULL,
    symbol  text        NOT NULL,
    action  text        NOT NULL,
    reason  text        NOT NULL,
    detail  text        NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE backtest.equity (
    run_id    uuid             NOT NULL REFERENCES backtest.runs (run_id) ON DELETE CASCADE,
    ts        timestamptz      NOT NULL,
    equity    double precision NOT NULL,
    benchmark double precision NOT NULL,
    drawdown  double precision NOT NULL,
    PRIMARY KEY (run_id, ts)
);

CREATE TABLE backtest.reports (
    run_id     uuid  NOT NULL REFERENCES backtest.runs (run_id) ON DELETE CASCADE,
    format     text  NOT NULL,
    media_type text  NOT NULL,
    content    bytea NOT NULL,
    PRIMARY KEY (run_id, format)
);
