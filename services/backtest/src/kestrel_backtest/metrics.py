"""Prometheus metrics of the backtest service (default registry, served on /metrics)."""

from __future__ import annotations

from kestrel_platform.metrics import counter, histogram

JOBS = counter("backtest_jobs", "Backtest jobs finished, by status and engine mode.", ["status", "mode"])
BARS = counter("backtest_bars", "Bars replayed through strategies by finished backtest jobs.")
DURATION = histogram(
    "backtest_job_duration_seconds",
    "Wall time of a successful backtest job, from claim to stored result, by engine mode.",
    ["mode"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
