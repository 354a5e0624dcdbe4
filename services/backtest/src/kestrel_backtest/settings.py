"""Settings of the backtest service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from pydantic import field_validator

from kestrel_platform.settings import ServiceSettings

__all__ = ["BacktestSettings"]


class BacktestSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Own fields carry a ``backtest_`` prefix (``KESTREL_BACKTEST_GROUP``, ...) so one environment can
    configure several services without their settings colliding.
    """

    service_name: str = "backtest"
    http_port: int = 8004
    # Every instance joins this group, so two instances split the jobs between them.
    backtest_group: str = "backtest"
    backtest_consumer_name: str = ""  # empty: "<service>-<hostname>-<pid>"
    backtest_max_attempts: int = 3
    backtest_retry_backoff_s: float = 1.0
    # A running job's lease: another worker takes a redelivered job over only after this long
    # without a heartbeat from its worker (which beats every quarter of it).
    backtest_lease_s: float = 30.0
    # Render the HTML/PDF/Excel/CSV/JSON/Pine reports of every run into backtest.reports.
    backtest_render_reports: bool = True

    @field_validator("backtest_group")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("backtest_lease_s")
    @classmethod
    def _lease_positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be > 0 seconds")
        return value

    @field_validator("backtest_max_attempts")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value
