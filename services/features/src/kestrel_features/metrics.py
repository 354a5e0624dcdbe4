"""Prometheus metrics of the features service (default registry, served on /metrics)."""

from __future__ import annotations

from kestrel_platform.metrics import counter, gauge, histogram

VECTORS_EMITTED = counter("features_vectors_emitted", "Feature vectors published (one per symbol and bar).")
BARS_PROCESSED_SECONDS = histogram(
    "features_bars_processed_seconds",
    "Time from a bar's arrival to its effects being durable (store, topic, online store).",
    buckets=(0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024),
)
BARS_SKIPPED = counter(
    "features_bars_skipped",
    "Bars that did not advance a state: duplicate, out_of_order or timeframe (not this service's).",
    ["reason"],
)
REFERENCE_MISSING = counter(
    "features_reference_missing",
    "Bars whose reference-symbol bar was neither seen nor stored: cross-asset features are NaN there.",
)
STATE_LOADS = counter(
    "features_state_loads",
    "Symbol states taken from outside this process: snapshot (online store) or replay (stored bars).",
    ["source"],
)
RECOMPUTE_MISMATCH = counter(
    "features_recompute_mismatch",
    "Recomputed vectors that differed from the stored one (the stored one was published again).",
)
DRIFT_PSI = gauge(
    "feature_drift_psi",
    "Population stability index of each feature, recent window vs reference.",
    ["feature"],
)
