"""Regime-switching price paths for the synthetic source (pure numpy, no I/O).

A hidden Markov chain over three regimes (calm, normal, turbulent) sets each bar's drift and
volatility. Log returns are Student-t (4 degrees of freedom, scaled to unit variance) for fat tails.
Volume rises with the regime's volatility and with the bar's own absolute return. Prices are integer
tick counts, so quantising to the tick size is exact: open = previous close, and the high/low are
widened to contain open and close after rounding, which keeps low <= open, close <= high by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Regime:
    name: str
    drift: float  # mean log return per 1-minute bar
    vol: float  # standard deviation of the log return per 1-minute bar
    stay: float  # probability of staying in this regime at the next bar


REGIMES = (
    Regime("calm", drift=2e-6, vol=0.0005, stay=0.998),
    Regime("normal", drift=0.0, vol=0.0012, stay=0.996),
    Regime("turbulent", drift=-1e-5, vol=0.0035, stay=0.99),
)
# Where the chain goes when it leaves a regime (rows: from, columns: to; the diagonal is unused).
LEAVE_TO = np.array([[0.0, 0.9, 0.1], [0.6, 0.0, 0.4], [0.2, 0.8, 0.0]])
VOLUME_UNITS = 1000  # volume is quantised to 0.001
_T_DF = 4.0
_T_UNIT_VARIANCE = math.sqrt(_T_DF / (_T_DF - 2))


@dataclass(frozen=True, slots=True)
class Chunk:
    """`n` consecutive bars of one symbol, prices in ticks and volume in VOLUME_UNITS."""

    regime: npt.NDArray[np.int8]
    open: IntArray
    high: IntArray
    low: IntArray
    close: IntArray
    volume: IntArray


class RegimeWalk:
    """The bar-by-bar state of one symbol; `next_chunk(n)` continues where the last chunk ended."""

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        start_price: float,
        tick: float,
        base_volume: float,
        minutes_per_bar: float = 1.0,
    ) -> None:
        self._rng = rng
        self._tick = tick
        self._base_volume = base_volume
        # Per-bar drift grows with the bar length, volatility with its square root.
        self._drift = np.array([r.drift for r in REGIMES]) * minutes_per_bar
        self._vol = np.array([r.vol for r in REGIMES]) * math.sqrt(minutes_per_bar)
        self._regime = 1
        self._left = self._duration(self._regime)
        self._log_price = math.log(start_price)
        self._close_ticks = max(1, round(start_price / tick))

    def _duration(self, regime: int) -> int:
        return int(self._rng.geometric(1.0 - REGIMES[regime].stay))

    def _regimes(self, n: int) -> npt.NDArray[np.int8]:
        out = np.empty(n, dtype=np.int8)
        filled = 0
        while filled < n:
            if self._left == 0:
                self._regime = int(self._rng.choice(len(REGIMES), p=LEAVE_TO[self._regime]))
                self._left = self._duration(self._regime)
            take = min(self._left, n - filled)
            out[filled : filled + take] = self._regime
            filled += take
            self._left -= take
        return out

    def next_chunk(self, n: int) -> Chunk:
        rng = self._rng
        regime = self._regimes(n)
        vol = self._vol[regime]
        shocks = rng.standard_t(_T_DF, n) / _T_UNIT_VARIANCE
        log_close = self._log_price + np.cumsum(self._drift[regime] + vol * shocks)
        self._log_price = float(log_close[-1])
        close = np.maximum(1, np.rint(np.exp(log_close) / self._tick)).astype(np.int64)
        open_ = np.empty(n, dtype=np.int64)
        open_[0] = self._close_ticks
        open_[1:] = close[:-1]
        self._close_ticks = int(close[-1])
        # Intrabar excursions beyond the open/close: half-normal, scaled by the regime volatility.
        body_high = np.maximum(open_, close).astype(np.float64)
        body_low = np.minimum(open_, close).astype(np.float64)
        high = np.ceil(body_high * np.exp(np.abs(rng.standard_normal(n)) * vol * 0.7)).astype(np.int64)
        low = np.floor(body_low * np.exp(-np.abs(rng.standard_normal(n)) * vol * 0.7)).astype(np.int64)
        high = np.maximum(high, np.maximum(open_, close))
        low = np.maximum(1, np.minimum(low, np.minimum(open_, close)))
        # Volume: higher in volatile regimes (elasticity ~1) and on bars with large moves.
        # |shock| is capped: exp() of a Student-t tail has no finite mean and would swamp the averages.
        surprise = np.minimum(np.abs(shocks), 6.0)
        activity = np.log(vol / self._vol[1]) + 0.5 * surprise + 0.3 * rng.standard_normal(n)
        volume = np.rint(self._base_volume * np.exp(activity) * VOLUME_UNITS).astype(np.int64)
        return Chunk(regime=regime, open=open_, high=high, low=low, close=close, volume=volume)
