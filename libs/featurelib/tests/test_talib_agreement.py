"""The classic indicators agree with TA-Lib (the C library, via the ta-lib package) on S&P 500 daily.

Tolerances, by how the two sides differ:
- Windowed indicators with the same definition (SMA, STOCH, WILLR, CCI, ROC, BBANDS, OBV, MFI,
  AROON): relative 1e-9 of max(|value|, median |value|).
- Exponential smoothers (EMA, MACD, PPO, RSI, ATR, NATR, ADX, +DI/-DI): TA-Lib seeds with an SMA and
  runs over the whole history; ours is truncated to a window whose neglected weight is
  EXP_TRUNCATION = 1e-8 (renormalized). Past our warm-up TA-Lib's seed has decayed below 1e-8 too,
  so the gap is the truncation: price-unit values within 5e-8 of the close, 0-100 oscillators
  within 1e-5, PPO within 5e-6 points, ATR/NATR relative 2e-7 (observed maxima are 3-10x lower).
- Deliberate differences, so not compared: OBV is windowed here (compared as TA-Lib's OBV change
  over the same 20 bars); flat-window conventions (RSI/MFI 50, %K 50, %R -50 where TA-Lib gives 0)
  never occur in this data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib
from talib._ta_lib import MA_Type

from kestrel_featurelib import FeatureSet

Arrays = dict[str, np.ndarray]


def _talib_values(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    h, lo, c, v = (bars[k].to_numpy(dtype=np.float64) for k in ("high", "low", "close", "volume"))
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, MA_Type.SMA)
    slow_k, slow_d = talib.STOCH(h, lo, c, 14, 3, MA_Type.SMA, 3, MA_Type.SMA)
    aroon_down, aroon_up = talib.AROON(h, lo, 25)
    obv = talib.OBV(c, v)
    obv_20 = np.concatenate((np.full(20, np.nan), obv[20:] - obv[:-20]))
    return {
        "sma_20": talib.SMA(c, 20),
        "ema_12": talib.EMA(c, 12),
        "ema_26": talib.EMA(c, 26),
        "macd_line": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "ppo_12_26": talib.PPO(c, 12, 26, MA_Type.EMA),
        "rsi_14": talib.RSI(c, 14),
        "atr_14": talib.ATR(h, lo, c, 14),
        "atr_pct_14": talib.NATR(h, lo, c, 14) / 100,
        "adx_14": talib.ADX(h, lo, c, 14),
        "plus_di_14": talib.PLUS_DI(h, lo, c, 14),
        "minus_di_14": talib.MINUS_DI(h, lo, c, 14),
        "aroon_up_25": aroon_up,
        "aroon_down_25": aroon_down,
        "aroon_osc_25": talib.AROONOSC(h, lo, 25),
        "stoch_k_14_3": slow_k,
        "stoch_d_14_3_3": slow_d,
        "willr_14": talib.WILLR(h, lo, c, 14),
        "cci_20": talib.CCI(h, lo, c, 20),
        "roc_10": talib.ROC(c, 10),
        "bb_pctb_20": (c - lower) / (upper - lower),
        "bb_width_20": (upper - middle - (lower - middle)) / middle,
        "obv_20": obv_20,
        "mfi_14": talib.MFI(h, lo, c, v, 14),
    }


Bound = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (talib values, close) -> allowed |difference|


def _relative(tol: float) -> Bound:
    return lambda ref, close: tol * np.maximum(np.abs(ref), np.median(np.abs(ref)))


def _absolute(tol: float) -> Bound:
    return lambda ref, close: np.full_like(ref, tol)


def _of_close(tol: float) -> Bound:
    return lambda ref, close: tol * close


TOLERANCES: dict[str, Bound] = {
    **{
        name: _relative(1e-9)
        for name in (
            "sma_20",
            "stoch_k_14_3",
            "stoch_d_14_3_3",
            "willr_14",
            "cci_20",
            "roc_10",
            "bb_pctb_20",
            "bb_width_20",
            "obv_20",
            "mfi_14",
            "aroon_up_25",
            "aroon_down_25",
            "aroon_osc_25",
        )
    },
    **{name: _of_close(5e-8) for name in ("ema_12", "ema_26", "macd_line", "macd_signal", "macd_hist")},
    "ppo_12_26": _absolute(5e-6),
    **{name: _absolute(1e-5) for name in ("rsi_14", "adx_14", "plus_di_14", "minus_di_14")},
    "atr_14": _relative(2e-7),
    "atr_pct_14": _relative(2e-7),
}


@pytest.fixture(scope="module")
def talib_values(sp500: pd.DataFrame) -> Arrays:
    return _talib_values(sp500)


@pytest.mark.parametrize("name", sorted(TOLERANCES))
def test_indicator_agrees_with_talib(
    name: str, feature_set: FeatureSet, sp500: pd.DataFrame, sp500_batch: pd.DataFrame, talib_values: Arrays
) -> None:
    ours = sp500_batch[name].to_numpy()
    ref = talib_values[name]
    # TA-Lib's STOCH emits %K only once %D exists, one bar later than ours: start where both exist.
    start = max(feature_set.warmups[name] - 1, int(np.argmax(~np.isnan(ref))))
    ours, ref, close = ours[start:], ref[start:], sp500["close"].to_numpy()[start:]
    assert not np.isnan(ours).any() and not np.isnan(ref).any()
    diff = np.abs(ours - ref)
    bound = TOLERANCES[name](ref, close)
    worst = int(np.argmax(diff - bound))
    assert np.all(diff <= bound), f"{name}: ours {ours[worst]!r} vs TA-Lib {ref[worst]!r} at {start + worst}"


def test_every_classic_family_is_compared() -> None:
    compared = {name.split("_")[0] for name in TOLERANCES}
    assert compared >= {
        "sma",
        "ema",
        "macd",
        "rsi",
        "atr",
        "adx",
        "aroon",
        "stoch",
        "willr",
        "cci",
        "roc",
        "bb",
        "obv",
        "mfi",
    }
