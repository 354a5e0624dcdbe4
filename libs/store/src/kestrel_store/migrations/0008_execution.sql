-- What the execution service keeps beyond 0004: the paper broker's working state per order, the
-- per-order report sequence, exact position cost basis, and the outbox of execution reports.

-- A malformed OrderRequest (no side, no type, zero or unparseable quantity) is still stored, as
-- REJECTED with its reason, so trading.orders stays the one record of every client_order_id
-- execution has seen. Only REJECTED rows may therefore lack side / order_type / quantity; every
-- accepted order keeps the 0004 guarantees (the redefined checks keep their names).
ALTER TABLE trading.orders
    ALTER COLUMN side DROP NOT NULL,
    ALTER COLUMN order_type DROP NOT NULL,
    ALTER COLUMN quantity DROP NOT NULL,
    DROP CONSTRAINT orders_quantity_check,
    DROP CONSTRAINT orders_limit_price_iff_limit,
    ADD CONSTRAINT orders_quantity_check CHECK (status = 'REJECTED' OR quantity > 0),
    ADD CONSTRAINT orders_limit_price_iff_limit
        CHECK (status = 'REJECTED' OR (order_type = 'LIMIT') = (limit_price IS NOT NULL)),
    ADD CONSTRAINT orders_accepted_is_complete
        CHECK (status = 'REJECTED' OR (side IS NOT NULL AND order_type IS NOT NULL AND quantity IS NOT NULL)),
    ADD COLUMN strategy_id      text    NOT NULL DEFAULT '',
    -- Bars of this timeframe drive the paper fills of the order.
    ADD COLUMN timeframe        text    NOT NULL DEFAULT '',
    -- Broker adapter that holds the order ("paper", ...).
    ADD COLUMN broker           text    NOT NULL DEFAULT '',
    -- ExecutionReason enum name of a rejection / cancel / expiry (reject_reason holds the text).
    ADD COLUMN reason_code      text    NOT NULL DEFAULT '',
    -- Σ price x qty and Σ fees of the fills, exact, so the average price is derived, never summed.
    ADD COLUMN filled_notional  numeric NOT NULL DEFAULT 0,
    ADD COLUMN fees             numeric NOT NULL DEFAULT 0 CHECK (fees >= 0),
    ADD COLUMN expire_at_ns     bigint,
    -- Paper working state (kestrel_trading.paper.WorkingOrder): the decision instant (no fill on
    -- bars opening before it), bars seen, and the last bar applied (a redelivered bar is a no-op).
    ADD COLUMN submitted_at_ns  bigint  NOT NULL DEFAULT 0,
    ADD COLUMN bars_seen        integer NOT NULL DEFAULT 0,
    ADD COLUMN last_bar_open_ns bigint,
    -- Sequence of the latest ExecutionReport of the order (its outbox row is written with it).
    ADD COLUMN report_sequence  integer NOT NULL DEFAULT 0;

CREATE INDEX orders_open_symbol_timeframe_idx ON trading.orders (symbol, timeframe, created_at)
    WHERE status IN ('NEW', 'PARTIALLY_FILLED');

-- Σ qty x price of the open quantity, kept exact (average_entry_price = cost_basis / quantity).
ALTER TABLE trading.positions ADD COLUMN cost_basis numeric NOT NULL DEFAULT 0;

-- Transactional outbox: each ExecutionReport is written here in the SAME transaction as the order
-- change it reports, published to Kafka after the commit, then stamped published_at. Whatever a
-- crash left unpublished is published again (startup and a periodic sweep), in sequence order.
CREATE TABLE trading.execution_report_outbox (
    client_order_id text        NOT NULL,
    sequence        integer     NOT NULL CHECK (sequence > 0),
    symbol          text        NOT NULL,
    payload         bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    CONSTRAINT execution_report_outbox_pkey PRIMARY KEY (client_order_id, sequence)
);

CREATE INDEX execution_report_outbox_unpublished_idx ON trading.execution_report_outbox (created_at)
    WHERE published_at IS NULL;
