"""Prometheus metrics of the execution service (default registry, served on /metrics)."""

from __future__ import annotations

from kestrel_platform.metrics import counter, histogram

EXECUTION_LATENCY_MS = histogram(
    "execution_latency_milliseconds",
    "From OrderRequest.ts_init (risk created it) to the order stored and its first report published, in ms.",
    buckets=(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
ORDERS_PROCESSED = counter(
    "orders_processed",
    "Order state changes made by execution, by the status reached (DUPLICATE: a redelivered order).",
    ["status"],
)
FILLS = counter("execution_fills", "Fills executed, by liquidity (MAKER or TAKER).", ["liquidity"])
