"""Settings of the backtest service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from kestrel_platform.settings import ServiceSettings

__all__ = ["BacktestSettings"]


class BacktestSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Issue #4 adds the fields its domain needs; until then the shared ones are all it uses.
    """

    service_name: str = "backtest"
    http_port: int = 8004
