"""Volatility features: ATR, Bollinger, realized, Parkinson and Garman-Klass volatility."""

from __future__ import annotations

import math

from kestrel_featurelib.catalogue.common import FLAT_EPS, LOGRET, TRUE_RANGE, log_ratio
from kestrel_featurelib.graph import CLOSE, HIGH, LOW, OPEN, Node, Value, apply, rolling, wilder
from kestrel_featurelib.ops import Ops
from kestrel_featurelib.spec import FeatureSpec

_TWO_LN2_MINUS_1 = 2.0 * math.log(2.0) - 1.0
_FOUR_LN2 = 4.0 * math.log(2.0)


def _fraction_of(m: Ops, x: Value, level: Value) -> Value:
    return x / level


def atr(period: int = 14) -> list[FeatureSpec]:
    node = wilder(TRUE_RANGE, period)
    params = {"period": period}
    return [
        FeatureSpec(f"atr_{period}", "volatility", "Average true range (Wilder, price units).", node, params),
        FeatureSpec(
            f"atr_pct_{period}", "volatility", "ATR / close.", apply(_fraction_of, node, CLOSE), params
        ),
    ]


def _percent_b(m: Ops, close: Value, mid: Value, sd: Value, width: float) -> Value:
    lower = mid - width * sd
    return m.ratio(close - lower, 2.0 * width * sd, 0.5, FLAT_EPS * mid)


def _band_width(m: Ops, mid: Value, sd: Value, width: float) -> Value:
    return m.where(sd <= FLAT_EPS * mid, 0.0, 2.0 * width * sd / mid)


def bollinger(period: int = 20, width: float = 2.0) -> list[FeatureSpec]:
    mid, sd = rolling("mean", CLOSE, period), rolling("pstd", CLOSE, period)
    params: dict[str, int | float | str] = {"period": period, "width": width}
    return [
        FeatureSpec(
            f"bb_pctb_{period}",
            "volatility",
            "Bollinger %b with population std bands (0.5 when the window is flat).",
            apply(_percent_b, CLOSE, mid, sd, consts=(width,)),
            params,
        ),
        FeatureSpec(
            f"bb_width_{period}",
            "volatility",
            "Bollinger band width (upper - lower) / middle.",
            apply(_band_width, mid, sd, consts=(width,)),
            params,
        ),
    ]


def _square(m: Ops, x: Value) -> Value:
    return x * x


def _scaled_sqrt(m: Ops, x: Value, divisor: float) -> Value:
    return m.sqrt(x / divisor)


def realized_vol_node(period: int) -> Node:
    """Root mean square of one-bar log returns (per-bar volatility, not annualized)."""
    return apply(_scaled_sqrt, rolling("mean", apply(_square, LOGRET), period), consts=(1.0,))


def realized_vol(period: int) -> FeatureSpec:
    return FeatureSpec(
        f"rv_{period}",
        "volatility",
        "Realized volatility: RMS of 1-bar log returns.",
        realized_vol_node(period),
        {"period": period},
    )


def parkinson(period: int = 20) -> FeatureSpec:
    hl_sq = apply(_square, apply(log_ratio, HIGH, LOW))
    node = apply(_scaled_sqrt, rolling("mean", hl_sq, period), consts=(_FOUR_LN2,))
    return FeatureSpec(
        f"parkinson_{period}",
        "volatility",
        "Parkinson high-low volatility estimator (per bar).",
        node,
        {"period": period},
    )


def _garman_klass_term(m: Ops, high: Value, low: Value, open_: Value, close: Value) -> Value:
    hl, co = m.log(high / low), m.log(close / open_)
    # Never negative for consistent bars: |ln(c/o)| <= ln(h/l) and 0.5 > 2 ln 2 - 1.
    return 0.5 * hl * hl - _TWO_LN2_MINUS_1 * co * co


def garman_klass(period: int = 20) -> FeatureSpec:
    term = apply(_garman_klass_term, HIGH, LOW, OPEN, CLOSE)
    node = apply(_scaled_sqrt, rolling("mean", term, period), consts=(1.0,))
    return FeatureSpec(
        f"garman_klass_{period}",
        "volatility",
        "Garman-Klass OHLC volatility estimator (per bar).",
        node,
        {"period": period},
    )


def volatility_features() -> list[FeatureSpec]:
    specs = [*atr(14), *bollinger(20, 2.0)]
    specs += [realized_vol(p) for p in (10, 20, 60)]
    return [*specs, parkinson(20), garman_klass(20)]
