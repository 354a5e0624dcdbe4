-- A venue numbers its orders per symbol (Binance does), so a venue order id is unique only within
-- (broker, symbol): SP500's order 1 and NASDAQ's order 1 are two orders.
ALTER TABLE trading.orders
    DROP CONSTRAINT orders_venue_order_id_key,
    ADD CONSTRAINT orders_venue_order_id_key UNIQUE (broker, symbol, venue_order_id);

-- Reconciliation compares holdings as deltas: the venue balance of an asset that Kestrel's own fills
-- did not explain when it was first reconciled (the account's starting balance). From then on
-- balance = baseline + Kestrel's net fills - commissions charged in the asset, or it is a break.
CREATE TABLE trading.venue_baselines (
    broker      text        NOT NULL,
    asset       text        NOT NULL,
    quantity    numeric     NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT venue_baselines_pkey PRIMARY KEY (broker, asset)
);
