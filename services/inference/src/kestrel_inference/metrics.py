"""Prometheus metrics of the inference service (default registry, served on /metrics)."""

from __future__ import annotations

from kestrel_platform.metrics import counter, gauge, histogram

MODEL_INFERENCE_TIME_MS = histogram(
    "model_inference_time_ms",
    "Time to score one feature row with the live model, in milliseconds.",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256),
)
PREDICTIONS = counter("predictions", "Predictions made, by the action the thresholds chose.", ["action"])
MODEL_RELOADS = counter(
    "model_reloads",
    "Attempts to load the version the registry alias points to: loaded or failed (old model kept).",
    ["outcome"],
)
MODEL_VERSION = gauge("model_loaded_version", "Version number of the model being served (0: none).")
