"""Kestrel's store: TimescaleDB when available, plain PostgreSQL otherwise, same SQL on both.

- ``kestrel_store.pool``: ``create_pool`` (timeouts, UTC sessions, JSON codecs), ``ping`` for /ready.
- ``kestrel_store.migrate``: the one migrations runner (``python -m kestrel_store.migrate``).
- ``kestrel_store.migrations``: the ordered SQL files (schemas market, features, trading, backtest,
  audit, and the ``kestrel`` helpers: ``time_bucket``, time-series table creation, partition upkeep).
- ``kestrel_store.timeseries``: bucketed queries (bar resampling) and partition maintenance.
- ``kestrel_store.bars``: the ``market.bars`` repository (idempotent bulk upserts, range reads).
"""
