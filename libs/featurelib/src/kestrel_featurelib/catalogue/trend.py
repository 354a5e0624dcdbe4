"""Trend features: moving averages, MACD, ADX/DI, Aroon."""

from __future__ import annotations

from kestrel_featurelib.catalogue.common import FLAT_EPS, TRUE_RANGE, minus, rel_distance
from kestrel_featurelib.graph import CLOSE, HIGH, LOW, Value, apply, ema, lag, rolling, wilder
from kestrel_featurelib.ops import Ops
from kestrel_featurelib.spec import FeatureSpec


def sma(period: int) -> FeatureSpec:
    return FeatureSpec(
        f"sma_{period}",
        "trend",
        f"Simple moving average of close over {period} bars (price units).",
        rolling("mean", CLOSE, period),
        {"period": period},
    )


def sma_distance(period: int) -> FeatureSpec:
    node = apply(rel_distance, CLOSE, rolling("mean", CLOSE, period))
    return FeatureSpec(f"sma_dist_{period}", "trend", f"close / SMA({period}) - 1.", node, {"period": period})


def ema_value(span: int) -> FeatureSpec:
    return FeatureSpec(
        f"ema_{span}",
        "trend",
        f"EMA of close, alpha = 2/({span}+1), truncated to a finite window (price units).",
        ema(CLOSE, span),
        {"span": span},
    )


def ema_distance(span: int) -> FeatureSpec:
    node = apply(rel_distance, CLOSE, ema(CLOSE, span))
    return FeatureSpec(f"ema_dist_{span}", "trend", f"close / EMA({span}) - 1.", node, {"span": span})


def _percent_of(m: Ops, a: Value, b: Value) -> Value:
    return 100.0 * (a - b) / b


def macd(fast: int = 12, slow: int = 26, signal: int = 9) -> list[FeatureSpec]:
    params = {"fast": fast, "slow": slow, "signal": signal}
    fast_ema, slow_ema = ema(CLOSE, fast), ema(CLOSE, slow)
    line = apply(minus, fast_ema, slow_ema)
    signal_line = ema(line, signal)
    return [
        FeatureSpec("macd_line", "trend", "EMA(fast) - EMA(slow) of close (price units).", line, params),
        FeatureSpec("macd_signal", "trend", "EMA(signal) of the MACD line.", signal_line, params),
        FeatureSpec(
            "macd_hist", "trend", "MACD line - signal line.", apply(minus, line, signal_line), params
        ),
        FeatureSpec(
            f"ppo_{fast}_{slow}",
            "trend",
            "Percentage price oscillator: 100 (EMA fast - EMA slow) / EMA slow.",
            apply(_percent_of, fast_ema, slow_ema),
            {"fast": fast, "slow": slow},
        ),
    ]


def _plus_dm(m: Ops, up: Value, down: Value) -> Value:
    # TA-Lib's rule: a move counts for the side that moved more, and only if it is positive.
    return m.where((up > down) & (up > 0.0), up, 0.0)


def _directional_index(m: Ops, dm: Value, tr: Value, close: Value) -> Value:
    # Floors: see FLAT_EPS. A range that never moves gives DI = 0, and DX = 0 when both DIs are
    # below DI_FLOOR (far above the batch side's residue, far below any real directional move).
    return m.ratio(100.0 * dm, tr, 0.0, FLAT_EPS * close)


DI_FLOOR = 1e-9


def _dx(m: Ops, plus_di: Value, minus_di: Value) -> Value:
    return m.ratio(100.0 * m.abs(plus_di - minus_di), plus_di + minus_di, 0.0, DI_FLOOR)


def adx(period: int = 14) -> list[FeatureSpec]:
    up = apply(minus, HIGH, lag(HIGH))
    down = apply(minus, lag(LOW), LOW)
    smoothed_tr = wilder(TRUE_RANGE, period)
    plus_di = apply(_directional_index, wilder(apply(_plus_dm, up, down), period), smoothed_tr, CLOSE)
    minus_di = apply(_directional_index, wilder(apply(_plus_dm, down, up), period), smoothed_tr, CLOSE)
    adx_node = wilder(apply(_dx, plus_di, minus_di), period)
    params = {"period": period}
    return [
        FeatureSpec(f"adx_{period}", "trend", "Average directional index (Wilder), 0-100.", adx_node, params),
        FeatureSpec(f"plus_di_{period}", "trend", "+DI (Wilder), 0-100.", plus_di, params),
        FeatureSpec(f"minus_di_{period}", "trend", "-DI (Wilder), 0-100.", minus_di, params),
    ]


def _aroon(m: Ops, bars_since: Value, period: float) -> Value:
    return 100.0 * (period - bars_since) / period


def aroon(period: int = 25) -> list[FeatureSpec]:
    # TA-Lib looks at period + 1 bars and takes the most recent extreme on ties.
    up = apply(_aroon, rolling("bars_since_max", HIGH, period + 1), consts=(float(period),))
    down = apply(_aroon, rolling("bars_since_min", LOW, period + 1), consts=(float(period),))
    params = {"period": period}
    return [
        FeatureSpec(f"aroon_up_{period}", "trend", "Aroon up, 0-100.", up, params),
        FeatureSpec(f"aroon_down_{period}", "trend", "Aroon down, 0-100.", down, params),
        FeatureSpec(f"aroon_osc_{period}", "trend", "Aroon up - Aroon down.", apply(minus, up, down), params),
    ]


def trend_features() -> list[FeatureSpec]:
    specs = [sma(20), *(sma_distance(p) for p in (20, 50, 200)), ema_value(12), ema_value(26)]
    specs += [ema_distance(s) for s in (5, 12, 26)]
    return specs + macd() + adx() + aroon()
