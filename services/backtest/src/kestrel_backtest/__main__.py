"""`python -m kestrel_backtest`: the backtest service process (wiring only; see service.py)."""

from __future__ import annotations

from kestrel_backtest.service import readiness_checks, serve
from kestrel_backtest.settings import BacktestSettings
from kestrel_platform.service import start_service

__all__ = ["main", "readiness_checks"]


def main() -> None:
    start_service(BacktestSettings, "kestrel-backtest", serve)


if __name__ == "__main__":
    main()
