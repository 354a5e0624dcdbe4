-- Orders, fills and positions, owned by the execution service. Every amount is NUMERIC.

CREATE SCHEMA IF NOT EXISTS trading;

-- Order state is updated in place, so this is a plain table. client_order_id is derived
-- deterministically from the signal by risk: its UNIQUE constraint is what stops a redelivered order
-- from ever being placed twice.
CREATE TABLE trading.orders (
    order_id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    client_order_id    text        NOT NULL,
    account            text        NOT NULL,
    symbol             text        NOT NULL,
    side               text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type         text        NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT')),
    time_in_force      text        NOT NULL DEFAULT 'GTC' CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    quantity           numeric     NOT NULL CHECK (quantity > 0),
    limit_price        numeric     CHECK (limit_price > 0),
    status             text        NOT NULL DEFAULT 'NEW' CHECK (status IN (
        'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED')),
    filled_quantity    numeric     NOT NULL DEFAULT 0,
    average_fill_price numeric     CHECK (average_fill_price > 0),
    reject_reason      text,
    venue              text        NOT NULL,
    venue_order_id     text,
    request_event_id   uuid        NOT NULL,
    signal_event_id    uuid,
    ts_event           timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_client_order_id_key UNIQUE (client_order_id),
    CONSTRAINT orders_venue_order_id_key UNIQUE (venue, venue_order_id),
    CONSTRAINT orders_limit_price_iff_limit CHECK ((order_type = 'LIMIT') = (limit_price IS NOT NULL)),
    CONSTRAINT orders_filled_within_quantity CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    CONSTRAINT orders_rejection_has_reason CHECK (status <> 'REJECTED' OR reject_reason IS NOT NULL)
);

CREATE INDEX orders_account_symbol_created_idx ON trading.orders (account, symbol, created_at DESC);
CREATE INDEX orders_open_idx ON trading.orders (symbol) WHERE status IN ('NEW', 'PARTIALLY_FILLED');

-- One execution (trade) of an order. (order_id, trade_id) identifies a fill; ts, the venue's fill
-- time, is in the key because the table is partitioned on it — it must therefore be deterministic
-- for a given fill (venue time or the filling bar's time, never the wall clock at write time), so a
-- redelivered fill hits the same key and ON CONFLICT DO NOTHING drops it.
SELECT kestrel.create_timeseries_table('trading.fills', 'ts', interval '1 month', $defs$
    order_id        uuid        NOT NULL REFERENCES trading.orders (order_id),
    trade_id        text        NOT NULL,
    ts              timestamptz NOT NULL,
    account         text        NOT NULL,
    symbol          text        NOT NULL,
    side            text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity        numeric     NOT NULL CHECK (quantity > 0),
    price           numeric     NOT NULL CHECK (price > 0),
    fee             numeric     NOT NULL DEFAULT 0 CHECK (fee >= 0),
    fee_asset       text        NOT NULL,
    liquidity       text        CHECK (liquidity IN ('MAKER', 'TAKER')),
    report_event_id uuid        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fills_pkey PRIMARY KEY (order_id, trade_id, ts)
$defs$);

CREATE INDEX fills_account_symbol_ts_idx ON trading.fills (account, symbol, ts);

-- Current position per account and symbol, written in the same transaction as the fills that move
-- it. quantity is signed (negative = short); average_entry_price is NULL while flat.
CREATE TABLE trading.positions (
    account             text        NOT NULL,
    symbol              text        NOT NULL,
    quantity            numeric     NOT NULL DEFAULT 0,
    average_entry_price numeric     CHECK (average_entry_price > 0),
    realized_pnl        numeric     NOT NULL DEFAULT 0,
    fees_paid           numeric     NOT NULL DEFAULT 0 CHECK (fees_paid >= 0),
    last_fill_ts        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT positions_pkey PRIMARY KEY (account, symbol)
);
