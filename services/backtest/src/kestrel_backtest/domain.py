"""What a backtest is asked to do and what it gives back (pure values; no I/O).

Bars come as one frame per symbol: ``ts`` (open time, ns), ``ts_event`` (close time, ns), float
``open``/``high``/``low``/``close``/``volume`` and the bar's ``event_id``. Prices become Decimal through
their shortest text (``Decimal(str(x))``), which gives back exactly the decimal a store or a CSV held.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from kestrel_contracts.events import derived_event_id
from kestrel_strategies import Strategy
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Fill
from kestrel_trading.paper import PaperConfig
from kestrel_trading.risk import RiskLimits

Mode = Literal["fast", "exact"]
BAR_FRAME_COLUMNS = ("ts", "ts_event", "open", "high", "low", "close", "volume", "event_id")
_UNITS_NS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_TIMEFRAME = re.compile(r"^([1-9]\d*)([smhdw])$")
NS = 1_000_000_000

# Risk limits that never bind: a backtest without account limits (fast mode has none; exact mode
# uses these unless the job names real ones).
UNLIMITED = RiskLimits(
    max_position_notional=Decimal("1e30"),
    max_gross_exposure=Decimal("1e30"),
    max_order_notional=Decimal("1e30"),
    max_orders_per_minute=1_000_000_000,
    daily_loss_limit=Decimal("1e30"),
    max_drawdown=Decimal(1),
)


class BacktestInputError(ValueError):
    """The job cannot run as asked (no data, bad range, unknown timeframe); the message says why."""


def timeframe_ns(timeframe: str) -> int:
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise BacktestInputError(f"timeframe {timeframe!r} is not a fixed length like 1m, 4h or 1d")
    return int(match.group(1)) * _UNITS_NS[match.group(2)] * NS


def bars_per_year(timeframe: str) -> float:
    return 365.25 * 86_400 * NS / timeframe_ns(timeframe)


@dataclass(frozen=True)
class BacktestSpec:
    strategy: Strategy
    symbols: tuple[str, ...]
    timeframe: str
    initial_cash: Decimal
    venue: str = "BACKTEST"
    fee_rate: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(0)
    sizing_fraction: Decimal = Decimal("0.1")
    allow_short: bool = False
    account: str = "backtest"
    catalog: InstrumentCatalog = field(default_factory=InstrumentCatalog.builtin)
    limits: RiskLimits = UNLIMITED

    def __post_init__(self) -> None:
        if not self.symbols or len(set(self.symbols)) != len(self.symbols):
            raise BacktestInputError(f"symbols must be distinct and non-empty, got {list(self.symbols)}")
        if not self.initial_cash > 0:
            raise BacktestInputError(f"initial_cash must be > 0, got {self.initial_cash}")
        if not 0 <= self.fee_rate < Decimal("0.1"):
            raise BacktestInputError(f"fee_rate must be in [0, 0.1), got {self.fee_rate}")
        if not 0 <= self.slippage_bps < 1000:
            raise BacktestInputError(f"slippage_bps must be in [0, 1000), got {self.slippage_bps}")
        if not 0 < self.sizing_fraction <= 1:
            raise BacktestInputError(f"sizing_fraction must be in (0, 1], got {self.sizing_fraction}")
        for symbol in self.symbols:
            if self.catalog.get(symbol) is None:
                raise BacktestInputError(f"symbol {symbol} is not in the instruments catalogue")
        timeframe_ns(self.timeframe)

    @property
    def paper(self) -> PaperConfig:
        bps = self.fee_rate * 10_000
        return PaperConfig(slippage_bps=self.slippage_bps, taker_fee_bps=bps, maker_fee_bps=bps)


@dataclass(frozen=True)
class MarketData:
    """Bars per symbol (same timeframe), an optional reference series and per-bar strategy inputs."""

    bars: Mapping[str, pd.DataFrame]
    reference: pd.DataFrame | None = None
    inputs: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)

    def check(self, spec: BacktestSpec) -> None:
        for symbol in spec.symbols:
            frame = self.bars.get(symbol)
            if frame is None or frame.empty:
                raise BacktestInputError(f"no {spec.timeframe} bars of {symbol} in the requested range")
            missing = [c for c in BAR_FRAME_COLUMNS if c not in frame.columns]
            if missing:
                raise BacktestInputError(f"bars of {symbol} lack columns {missing}")
        if spec.strategy.needs_reference and self.reference is None:
            raise BacktestInputError(f"strategy {spec.strategy.name} needs a reference symbol's bars")


def with_bar_identity(frame: pd.DataFrame, symbol: str, venue: str, timeframe: str) -> pd.DataFrame:
    """Add ``ts_event`` and ``event_id`` as ingestion derives them, for bars that never went through it."""
    out = frame.copy()
    out["ts_event"] = out["ts"].astype("int64") + timeframe_ns(timeframe)
    out["event_id"] = [derived_event_id("bar", venue, symbol, timeframe, str(ts)) for ts in out["ts"]]
    return out


def to_decimal(x: float) -> Decimal:
    return Decimal(str(x))


@dataclass(frozen=True)
class Rejection:
    """A decision that traded nothing, with risk's reason code (exact mode) or the sizing's (fast)."""

    ts_event: int
    symbol: str
    action: str
    reason: str
    detail: str


@dataclass(frozen=True)
class EnginePath:
    """What an engine produced: every fill, every rejected decision, bars processed."""

    fills: Sequence[Fill]
    rejections: Sequence[Rejection]
    bars: int
    signals: int
    # Why a fast-mode run was handed to exact mode ("" when it ran fast); see fast_book.
    fallback: str = ""
