"""Log returns at several lags, and volatility / trend regime features."""

from __future__ import annotations

import math

from kestrel_featurelib.catalogue.common import log_ratio, log_return
from kestrel_featurelib.catalogue.volatility import realized_vol_node
from kestrel_featurelib.graph import CLOSE, Value, apply, lag, rolling
from kestrel_featurelib.ops import Ops
from kestrel_featurelib.spec import FeatureSpec


def log_returns(lags: tuple[int, ...] = (1, 5, 10, 20)) -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"logret_{k}", "returns", f"ln(close / close {k} bars ago).", log_return(CLOSE, k), {"lag": k}
        )
        for k in lags
    ]


def _vol_ratio(m: Ops, short: Value, long: Value) -> Value:
    return m.ratio(short, long, 1.0)  # no movement over the long window: neither calm nor stressed


def _bucket(m: Ops, x: Value, low: float, high: float) -> Value:
    return m.where(x < low, -1.0, m.where(x > high, 1.0, 0.0))


def volatility_regime(
    short: int = 10, long: int = 60, low: float = 0.75, high: float = 1.33
) -> list[FeatureSpec]:
    ratio = apply(_vol_ratio, realized_vol_node(short), realized_vol_node(long))
    params: dict[str, int | float | str] = {"short": short, "long": long}
    return [
        FeatureSpec(
            f"vol_ratio_{short}_{long}", "regime", "Short / long realized volatility.", ratio, params
        ),
        FeatureSpec(
            "vol_regime",
            "regime",
            f"-1 calm (ratio < {low}), +1 stressed (ratio > {high}), else 0.",
            apply(_bucket, ratio, consts=(low, high)),
            {**params, "low": low, "high": high},
        ),
    ]


def _trend_strength(m: Ops, slope: Value, vol: Value, horizon: float) -> Value:
    # The MA's log move over the horizon in units of the horizon's return volatility.
    return m.ratio(slope, vol * math.sqrt(horizon), 0.0)


def _trend_regime(m: Ops, strength: Value, threshold: float) -> Value:
    return m.where(m.abs(strength) > threshold, m.sign(strength), 0.0)


def trend_regime(
    period: int = 50, horizon: int = 10, vol_period: int = 60, threshold: float = 0.5
) -> list[FeatureSpec]:
    ma = rolling("mean", CLOSE, period)
    slope = apply(log_ratio, ma, lag(ma, horizon))
    strength = apply(_trend_strength, slope, realized_vol_node(vol_period), consts=(float(horizon),))
    params: dict[str, int | float | str] = {"period": period, "horizon": horizon, "vol_period": vol_period}
    return [
        FeatureSpec(
            f"trend_strength_{period}",
            "regime",
            f"ln(SMA{period}_t / SMA{period}_t-{horizon}) / (rv_{vol_period} * sqrt({horizon})).",
            strength,
            params,
        ),
        FeatureSpec(
            "trend_regime",
            "regime",
            f"sign of trend strength when |strength| > {threshold}, else 0.",
            apply(_trend_regime, strength, consts=(threshold,)),
            {**params, "threshold": threshold},
        ),
    ]


def return_and_regime_features() -> list[FeatureSpec]:
    return [*log_returns(), *volatility_regime(), *trend_regime()]
