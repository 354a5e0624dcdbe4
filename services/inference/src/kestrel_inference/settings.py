"""Settings of the inference service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator, model_validator

from kestrel_platform.settings import ServiceSettings
from kestrel_strategies import ParameterError, Strategy, UnknownStrategyError, build

__all__ = ["InferenceSettings"]


class InferenceSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`."""

    service_name: str = "inference"
    http_port: int = 8003
    # What this deployment serves on trading.signals: the registered model (features.vectors in) or a
    # catalogue strategy with its parameters (market.bars in). Several deployments can run side by
    # side, each with its own consumer group and a risk instance (account) of its own.
    signal_source: Literal["model", "strategy"] = "model"
    strategy: str = ""  # a kestrel_strategies name, e.g. sma_cross
    strategy_params: dict[str, Any] = {}  # JSON, e.g. {"fast": 10, "slow": 50}; defaults otherwise
    strategy_timeframe: str = "1d"
    strategy_allow_short: bool = False  # SELL opens a short (the risk account must allow shorts too)
    strategy_history_bars: int = 5000  # stored bars replayed to warm a symbol's stream up
    # The symbol pairs_spread / dual_momentum read beside the traded one, and how long a bar waits
    # for the reference bar of its open time to be stored before it is decided without it.
    strategy_reference_symbol: str = ""
    strategy_reference_wait_s: float = 5.0
    # The registered model and the alias that says which of its versions is live.
    model_name: str = "kestrel-direction"
    model_alias: str = "live"
    # When set, a version trained on another feature-set version is refused at load (never served);
    # the features service's catalogue version is what belongs here. Empty: any version loads, and
    # a vector of another version than the served model's goes to the DLQ.
    model_feature_set_version: str = ""
    # How often the alias is read; a moved alias is loaded and swapped in without a restart.
    reload_interval_s: float = 30.0
    # BUY when P(up) >= buy_threshold, SELL when P(up) <= sell_threshold, HOLD in between.
    buy_threshold: float = 0.55
    sell_threshold: float = 0.45
    strategy_id: str = "kestrel-direction"
    # The feature copied into Signal.volatility for volatility-targeted sizing (0 when absent/NaN).
    volatility_feature: str = "rv_20"
    consumer_group: str = "inference"
    consumer_name: str = ""  # empty: "<service>-<hostname>-<pid>"
    max_attempts: int = 5
    retry_backoff_s: float = 0.1

    @field_validator("model_name", "model_alias", "consumer_group", "strategy_id")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("reload_interval_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be > 0")
        return value

    @model_validator(mode="after")
    def _strategy(self) -> InferenceSettings:
        if self.signal_source == "strategy":
            strategy = self.bound_strategy()  # an unknown strategy or a bad parameter fails at startup
            if strategy.needs_reference and not self.strategy_reference_symbol.strip():
                raise ValueError(
                    f"{strategy.name} reads a reference symbol: set KESTREL_STRATEGY_REFERENCE_SYMBOL"
                )
        if not 0 <= self.strategy_reference_wait_s < float("inf"):
            raise ValueError(f"strategy_reference_wait_s must be >= 0, got {self.strategy_reference_wait_s}")
        if self.strategy_history_bars < 1:
            raise ValueError(f"strategy_history_bars must be >= 1, got {self.strategy_history_bars}")
        return self

    def bound_strategy(self) -> Strategy:
        """The configured catalogue strategy with its validated parameters (ValueError if invalid)."""
        if not self.strategy.strip():
            raise ValueError(
                "KESTREL_SIGNAL_SOURCE=strategy needs KESTREL_STRATEGY (see `kestrel strategies list`)"
            )
        try:
            return build(self.strategy.strip(), self.strategy_params)
        except (UnknownStrategyError, ParameterError) as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _thresholds(self) -> InferenceSettings:
        if not 0.0 <= self.sell_threshold < self.buy_threshold <= 1.0:
            raise ValueError(
                f"need 0 <= sell_threshold < buy_threshold <= 1, got sell={self.sell_threshold} "
                f"buy={self.buy_threshold}"
            )
        return self
