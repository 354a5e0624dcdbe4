"""Kestrel inference service."""

import os

# MLflow's usage telemetry calls out to the internet from a background thread, which this platform
# never wants (and whose session bookkeeping in os.environ raced the client in tests). Set before any
# module of this package imports mlflow; an explicit setting still wins.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
