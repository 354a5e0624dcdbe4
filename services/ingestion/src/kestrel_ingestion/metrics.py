"""Prometheus metrics of the ingestion service."""

from __future__ import annotations

from kestrel_platform.metrics import counter, histogram

BARS = counter("ingestion_bars", "Bars seen by ingestion, by source and outcome.", ["source", "outcome"])
GAPS = counter(
    "ingestion_gaps", "Gaps detected in a series (never filled), by symbol.", ["symbol", "timeframe"]
)
MISSING_BARS = counter(
    "ingestion_missing_bars", "Bars missing inside detected gaps, by symbol.", ["symbol", "timeframe"]
)
UNREADABLE = counter("ingestion_unreadable_rows", "Rows a source could not read as a bar.", ["source"])
FLUSH_SECONDS = histogram(
    "ingestion_flush_seconds",
    "Time to store and publish one batch of bars.",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
