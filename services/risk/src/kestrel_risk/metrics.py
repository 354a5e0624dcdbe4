"""Prometheus metrics of the risk service (default registry, served on /metrics)."""

from __future__ import annotations

from kestrel_platform.metrics import counter, gauge, histogram

SIGNALS_RECEIVED = counter("signals_received", "Signals consumed, by action (HOLD included).", ["action"])
SIGNALS_NOT_OWNED = counter("signals_not_owned", "Signals of strategies another account trades, skipped.")
ORDERS_APPROVED = counter("orders_approved", "Orders risk approved and sent to execution.", ["origin"])
ORDERS_REJECTED = counter("orders_rejected", "Orders risk rejected, by RiskReason name.", ["reason"])
DECISION_TIME_MS = histogram(
    "risk_decision_time_ms",
    "Time to decide one signal or manual order (kill switch read, sizing, checks), in milliseconds.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128),
)
FILLS_APPLIED = counter(
    "risk_fills_applied", "Fills applied to positions, by where they came from.", ["source"]
)
EQUITY = gauge("risk_equity", "Account equity (cash + positions at the latest marks), quote currency.")
DECIDED_WITH_DUE_ORDERS = counter(
    "risk_signals_decided_with_due_orders",
    "Signals decided after risk gave up waiting for execution's reports of earlier bars' orders, by "
    "why (timeout, stopping): their sizing may differ from an exact-mode backtest's.",
    ["reason"],
)
