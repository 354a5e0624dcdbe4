"""Settings of the risk service, read from `KESTREL_*` environment variables.

Risk-specific fields carry a `risk_` prefix so their variables read `KESTREL_RISK_*`; the
instruments file is shared with execution (`KESTREL_INSTRUMENTS_FILE`) so both apply one catalogue.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

from pydantic import field_validator

from kestrel_platform.settings import ServiceSettings
from kestrel_risk.execution_plan import ExecutionPlan
from kestrel_risk.ownership import StrategyFilter
from kestrel_trading.risk import RiskLimits

__all__ = ["RiskSettings", "SizingMethod"]

SizingMethod = Literal["fixed_fraction", "vol_target"]


class RiskSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`."""

    service_name: str = "risk"
    http_port: int = 8005

    # The one account this instance trades for (upserted into trading.accounts on start).
    risk_account: str = "paper"
    risk_initial_cash: Decimal = Decimal(100_000)
    risk_quote_asset: str = "USD"

    # Sizing of signal orders: a fixed fraction of equity, or a volatility target (Signal.volatility).
    risk_sizing_method: SizingMethod = "fixed_fraction"
    risk_sizing_fraction: Decimal = Decimal("0.1")
    risk_target_annual_vol: Decimal = Decimal("0.2")
    risk_bars_per_year: int = 252
    risk_max_leverage: Decimal = Decimal(1)
    # Long-only spot by default: SELL only closes a long. True lets SELL open a short of the sized amount.
    risk_allow_short: bool = False

    # How execution works each signal order: at once, as a TWAP parent (risk_algo_slices children
    # spread over risk_algo_duration_s), or as an iceberg showing risk_iceberg_display_fraction of it
    # at a time. A parent works over time, so later signals do not wait for its fills.
    risk_execution_algorithm: Literal["immediate", "twap", "iceberg"] = "immediate"
    risk_algo_duration_s: float = 300.0
    risk_algo_slices: int = 5
    risk_iceberg_display_fraction: Decimal = Decimal("0.25")

    # Pre-trade limits, in the quote currency unless said otherwise.
    risk_max_position_notional: Decimal = Decimal(25_000)
    risk_max_gross_exposure: Decimal = Decimal(100_000)
    risk_max_order_notional: Decimal = Decimal(25_000)
    risk_max_orders_per_minute: int = 30
    risk_daily_loss_limit: Decimal = Decimal(5_000)
    risk_max_drawdown: Decimal = Decimal("0.2")  # fraction of the equity peak
    # The production controller: once the drawdown reaches risk_max_drawdown, halt the account (every
    # order refused until an operator resumes it) rather than only refusing orders that add risk.
    risk_halt_on_drawdown: bool = True
    # Halt the account when no signal arrived for this long (wall clock) while trading: the feed or a
    # stage upstream has stopped. 0 disables it (a replay ends on purpose); production sets a few bars.
    risk_stale_data_after_s: float = 0.0

    # The strategies whose signals this account trades, comma-separated names or full strategy ids
    # (see ownership.py); empty: all. Side-by-side deployments give each account its own list and
    # its own KESTREL_RISK_SIGNALS_GROUP, so every instance reads the whole topic.
    risk_strategies: str = ""

    risk_signals_group: str = "risk-signals"
    risk_reports_group: str = "risk-reports"
    risk_commands_group: str = "risk-commands"
    risk_consumer_name: str = ""  # empty: "<service>-<hostname>-<pid>"
    risk_batch_size: int = 100
    risk_max_attempts: int = 5
    risk_retry_backoff_s: float = 0.1
    # How long a signal waits for execution's reports of orders decided on earlier bars, so it is
    # sized from their fills as in an exact-mode backtest; 0 decides at once (the fills may lag).
    risk_fill_wait_s: float = 5.0

    instruments_file: str | None = None  # None: every symbol trades with the builtin default filters

    @field_validator(
        "risk_account", "risk_quote_asset", "risk_signals_group", "risk_reports_group", "risk_commands_group"
    )
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator(
        "risk_initial_cash",
        "risk_target_annual_vol",
        "risk_max_leverage",
        "risk_max_position_notional",
        "risk_max_gross_exposure",
        "risk_max_order_notional",
        "risk_daily_loss_limit",
    )
    @classmethod
    def _positive_amount(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError(f"must be a finite number > 0, got {value}")
        return value

    @field_validator(
        "risk_bars_per_year", "risk_max_orders_per_minute", "risk_batch_size", "risk_max_attempts"
    )
    @classmethod
    def _positive_int(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator("risk_fill_wait_s")
    @classmethod
    def _non_negative_seconds(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"must be a finite number >= 0, got {value}")
        return value

    @field_validator("risk_algo_duration_s")
    @classmethod
    def _positive_seconds(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"must be a finite number > 0, got {value}")
        return value

    @field_validator("risk_algo_slices")
    @classmethod
    def _slices(cls, value: int) -> int:
        if not 2 <= value <= 1000:
            raise ValueError(f"must be in [2, 1000], got {value}")
        return value

    @field_validator("risk_sizing_fraction", "risk_max_drawdown", "risk_iceberg_display_fraction")
    @classmethod
    def _fraction(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or not 0 < value <= 1:
            raise ValueError(f"must be in (0, 1], got {value}")
        return value

    @field_validator("risk_strategies")
    @classmethod
    def _strategy_list(cls, value: str) -> str:
        StrategyFilter.parse(value)  # refuses unbalanced braces at start-up
        return value

    def algorithm(self) -> ExecutionPlan:
        return ExecutionPlan(
            self.risk_execution_algorithm,
            duration_ns=int(self.risk_algo_duration_s * 1e9),
            slices=self.risk_algo_slices,
            display_fraction=self.risk_iceberg_display_fraction,
        )

    def strategy_filter(self) -> StrategyFilter:
        return StrategyFilter.parse(self.risk_strategies)

    def limits(self) -> RiskLimits:
        return RiskLimits(
            max_position_notional=self.risk_max_position_notional,
            max_gross_exposure=self.risk_max_gross_exposure,
            max_order_notional=self.risk_max_order_notional,
            max_orders_per_minute=self.risk_max_orders_per_minute,
            daily_loss_limit=self.risk_daily_loss_limit,
            max_drawdown=self.risk_max_drawdown,
        )
