-- A running backtest holds a lease: its worker refreshes heartbeat_at while it runs. A redelivered
-- job (a consumer-group rebalance hands its partition to another worker) is taken over only once the
-- lease has lapsed, so a live worker's run is never started a second time; a dead worker's is.
ALTER TABLE backtest.runs ADD COLUMN heartbeat_at timestamptz;
