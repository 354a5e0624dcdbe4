-- Parent orders (kestrel_execution.algorithms): what risk sent with an execution algorithm (TWAP,
-- ICEBERG). Execution slices each into child orders in trading.orders, named "<parent>.<k>" and
-- linked by parent_client_order_id; the children's fills are the parent's. filled_quantity,
-- filled_notional and fees are the children's sums, re-derived after every change, so they are a
-- cache the children can always rebuild. report_sequence guards the parent's reports: a parent row
-- is only ever updated from the sequence it was read at, so two replicas never report one change twice.
CREATE TABLE trading.parent_orders (
    client_order_id   text        PRIMARY KEY,
    account           text        NOT NULL,
    strategy_id       text        NOT NULL,
    symbol            text        NOT NULL,
    venue             text        NOT NULL,
    timeframe         text        NOT NULL,
    broker            text        NOT NULL,
    side              text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type        text        NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT')),
    time_in_force     text        NOT NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    quantity          numeric     NOT NULL CHECK (quantity > 0),
    limit_price       numeric     CHECK (limit_price > 0),
    expire_at_ns      bigint,
    algorithm         text        NOT NULL CHECK (algorithm IN ('TWAP', 'ICEBERG')),
    duration_ns       bigint      NOT NULL DEFAULT 0,
    slices            integer     NOT NULL DEFAULT 0,
    display_quantity  numeric     CHECK (display_quantity > 0),
    arrival_ns        bigint      NOT NULL,
    arrival_price     numeric     CHECK (arrival_price > 0),
    status            text        NOT NULL DEFAULT 'NEW' CHECK (status IN (
        'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED')),
    filled_quantity   numeric     NOT NULL DEFAULT 0,
    filled_notional   numeric     NOT NULL DEFAULT 0,
    fees              numeric     NOT NULL DEFAULT 0,
    reason_code       text        NOT NULL DEFAULT '',
    reason_text       text        NOT NULL DEFAULT '',
    report_sequence   integer     NOT NULL DEFAULT 1,
    request_event_id  uuid        NOT NULL,
    signal_event_id   uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT parent_orders_filled_within_quantity CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    CONSTRAINT parent_orders_limit_price_iff_limit CHECK ((order_type = 'LIMIT') = (limit_price IS NOT NULL))
);

CREATE INDEX parent_orders_open_idx ON trading.parent_orders (broker, created_at)
    WHERE status IN ('NEW', 'PARTIALLY_FILLED');

ALTER TABLE trading.orders
    ADD COLUMN parent_client_order_id text REFERENCES trading.parent_orders (client_order_id);

CREATE INDEX orders_parent_idx ON trading.orders (parent_client_order_id)
    WHERE parent_client_order_id IS NOT NULL;
