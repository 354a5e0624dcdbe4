"""Kestrel's local infrastructure without Docker: Kafka, PostgreSQL, Redis, MLflow, Prometheus.

Each server runs as a plain local process bound to 127.0.0.1, with its data, log and pid file under
one run directory (KESTREL_RUN_DIR). `kestrel_infra.py` next to this package is the command line.
"""
